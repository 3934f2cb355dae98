/** Experiments shipped with featlab, runnable by name: the YAML files in the package's specs/ folder. */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const SPECS_DIR = fileURLToPath(new URL('../../../specs/', import.meta.url));

export function builtinNames(): string[] {
  if (!existsSync(SPECS_DIR)) return [];
  return readdirSync(SPECS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** The file of a built-in experiment, or null when the name is not one. */
export function builtinPath(name: string): string | null {
  const path = join(SPECS_DIR, `${name}.yaml`);
  return builtinNames().includes(name) ? path : null;
}
