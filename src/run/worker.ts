/** A worker thread: receives groups of trials, sends back their records. */
import { parentPort } from 'node:worker_threads';
import { getBackend } from '../linalg/index.js';
import { executeGroup, type TrialJob } from './execute.js';

// One BLAS thread per worker: the pool already has a worker per core (one policy, no oversubscription).
getBackend().setThreads?.(1);

export interface JobMessage {
  readonly jobId: number;
  readonly trials: readonly TrialJob[];
}

parentPort?.on('message', (job: JobMessage) => {
  parentPort?.postMessage({ jobId: job.jobId, records: executeGroup(job.trials) });
});
