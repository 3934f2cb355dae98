/**
 * Experiments shipped with featlab, runnable by name: each paper's spec (src/papers/<name>/) and the
 * example specs in the package's specs/ folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PAPERS } from '../papers/index.js';

const EXAMPLES_DIR = fileURLToPath(new URL('../../../specs/', import.meta.url));

function exampleNames(): string[] {
  if (!existsSync(EXAMPLES_DIR)) return [];
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length));
}

export function builtinNames(): string[] {
  return [...PAPERS.map((p) => p.name), ...exampleNames()].sort();
}

/** The file of a built-in experiment, or null when the name is not one. */
export function builtinPath(name: string): string | null {
  const paper = PAPERS.find((p) => p.name === name);
  if (paper) return paper.specFile;
  return exampleNames().includes(name) ? join(EXAMPLES_DIR, `${name}.yaml`) : null;
}
