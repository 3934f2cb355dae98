/** Runs a group of trials as one job of their kind (src/experiments/trialKinds.ts) and turns the results into records. */
import { trialKindOf } from '../experiments/trialKinds.js';
import type { TrialSpec } from '../experiments/trialSpec.js';
import type { MemberResult } from '../train/records.js';
import { TrainingInterrupted } from '../train/interrupt.js';
import type { TrialRecord } from './record.js';

export interface TrialJob {
  readonly id: string;
  readonly spec: TrialSpec;
}

function toRecord(id: string, r: MemberResult): TrialRecord {
  return { id, status: r.status, stopReason: r.stopReason, error: null, steps: r.steps, time: r.time, seconds: r.seconds, final: r.final, curve: r.curve, series: r.series };
}

export function failedRecord(id: string, error: unknown, seconds = 0): TrialRecord {
  const message = error instanceof Error ? error.message : String(error);
  return { id, status: 'failed', stopReason: null, error: message, steps: null, time: null, seconds, final: null, curve: [], series: [] };
}

/**
 * All trials of a group share their kind's group key; a group that fails is retried trial by trial. `onRecord`
 * receives each trial's record as soon as it stops (an ensemble's members stop at different steps); the
 * returned list holds the records not already given to it.
 */
export function executeGroup(trials: readonly TrialJob[], onRecord?: (record: TrialRecord) => void): TrialRecord[] {
  if (trials.length === 0) return [];
  const started = performance.now();
  const given = new Set<number>();
  const onMemberDone = onRecord
    ? (k: number, r: MemberResult) => {
        given.add(k);
        onRecord(toRecord(trials[k].id, r));
      }
    : undefined;
  try {
    const results = trialKindOf(trials[0].spec).run(
      trials.map((t) => t.spec),
      { onMemberDone },
    );
    return results.flatMap((r, k) => (given.has(k) ? [] : [toRecord(trials[k].id, r)]));
  } catch (error) {
    // A stop is not a failure: the trials are left unstored, to run again.
    if (error instanceof TrainingInterrupted) throw error;
    const rest = trials.filter((_, k) => !given.has(k));
    if (trials.length === 1) return rest.map((t) => failedRecord(t.id, error, (performance.now() - started) / 1000));
    return rest.flatMap((t) => executeGroup([t], onRecord));
  }
}
