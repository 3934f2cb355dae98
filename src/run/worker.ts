/** A worker thread: receives groups of trials, sends back their records. */
import { parentPort, workerData } from 'node:worker_threads';
import { getBackend } from '../linalg/index.js';
import { setInterruptCheck, setStepCounter, TrainingInterrupted } from '../train/interrupt.js';
import { executeGroup, type TrialJob } from './execute.js';

// One BLAS thread per worker: the pool already has a worker per core (one policy, no oversubscription).
getBackend().setThreads?.(1);

export interface JobMessage {
  readonly jobId: number;
  readonly trials: readonly TrialJob[];
}

// The runner's stop flag, in memory shared with the main thread: set there, seen here between steps.
const stop = (workerData as { stop?: SharedArrayBuffer } | undefined)?.stop;
if (stop) {
  const flag = new Int32Array(stop);
  setInterruptCheck(() => Atomics.load(flag, 0) !== 0);
}

// Member-steps of the current job, read by the runner for its ETA (it resets them between jobs).
const steps = (workerData as { steps?: SharedArrayBuffer } | undefined)?.steps;
if (steps) setStepCounter(new Float64Array(steps));

parentPort?.on('message', (job: JobMessage) => {
  try {
    // Each trial's record goes out as it stops; the last message carries the rest and ends the job.
    const records = executeGroup(job.trials, (record) => parentPort?.postMessage({ jobId: job.jobId, partial: record }));
    parentPort?.postMessage({ jobId: job.jobId, records });
  } catch (e) {
    if (!(e instanceof TrainingInterrupted)) throw e;
    parentPort?.postMessage({ jobId: job.jobId, records: [], interrupted: true });
  }
});
