/** `featlab report`: the experiment's template draws its figures from the store into a report folder. */
import type { Store } from '../run/store.js';
import { FEATLAB_VERSION } from '../run/version.js';
import { convergenceNote } from '../run/tables.js';
import { reportInput, type ReportInput } from './data.js';
import { type ReportContent, writeReport, type WrittenReport } from './html.js';
import { genericReport } from './generic.js';
import { paperNamed } from '../papers/index.js';

/** The figures and findings of the experiment's template, from what was read of the store once. */
export function reportContent(input: ReportInput): ReportContent {
  const template = paperNamed(input.spec.report.template)?.report ?? genericReport;
  const content = template(input);
  // Every report says whether its runs converged or stopped on their budget.
  const note = convergenceNote(input.trials);
  return note ? { ...content, summary: [...content.summary, note] } : content;
}

export async function writeExperimentReport(store: Store, experiment: string, dir: string): Promise<{ content: ReportContent; written: WrittenReport }> {
  const input = reportInput(store, experiment);
  const content = reportContent(input);
  const seeds = [...new Set(input.trials.map((t) => t.spec?.seed).filter((s): s is number => typeof s === 'number'))].sort((a, b) => a - b);
  const written = await writeReport(dir, content, {
    experiment,
    featlabVersion: FEATLAB_VERSION,
    spec: input.spec,
    seeds,
    trials: input.trials.length,
    seconds: input.trials.reduce((s, t) => s + (t.seconds ?? 0), 0),
    generatedAt: new Date().toISOString(),
  });
  return { content, written };
}
