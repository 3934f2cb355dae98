/** A worker thread: receives groups of trials, sends back their records. */
import { parentPort } from 'node:worker_threads';
import { executeGroup, type TrialJob } from './execute.js';

export interface JobMessage {
  readonly jobId: number;
  readonly trials: readonly TrialJob[];
}

parentPort?.on('message', (job: JobMessage) => {
  parentPort?.postMessage({ jobId: job.jobId, records: executeGroup(job.trials) });
});
