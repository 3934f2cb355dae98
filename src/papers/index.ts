/** The papers featlab reproduces: a reproduction is its folder here plus one line in this list. */
import type { Paper } from './paper.js';
import { flsPaper } from './fls/index.js';
import { thresholdPaper } from './threshold/index.js';
import { mechanismsPaper } from './mechanisms/index.js';
import { jacobianPaper } from './jacobian/index.js';
import { overparamPaper } from './overparam/index.js';

export type { Paper } from './paper.js';

export const PAPERS: readonly Paper[] = [flsPaper, thresholdPaper, mechanismsPaper, jacobianPaper, overparamPaper];

export function paperNamed(name: string): Paper | undefined {
  return PAPERS.find((p) => p.name === name);
}
