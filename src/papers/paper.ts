/** A reproduction of one paper: its spec (runnable by name) and the report template that reads it. */
import { fileURLToPath } from 'node:url';
import type { ReportInput } from '../report/data.js';
import type { ReportContent } from '../report/html.js';

export interface Paper {
  /** The built-in's name (`featlab run <name>`) and its spec's `report.template`. */
  readonly name: string;
  /** The spec file, beside the paper's other modules. */
  readonly specFile: string;
  readonly report: (input: ReportInput) => ReportContent;
}

/**
 * The spec of the paper in `src/papers/<name>/`. YAML is not compiled, so the file is read from the
 * package's sources (shipped with it) rather than from beside the compiled module.
 */
export function paperSpecFile(name: string): string {
  return fileURLToPath(new URL(`../../../src/papers/${name}/spec.yaml`, import.meta.url));
}
