/**
 * What passes between a training loop and the runner outside it, between two steps: in, a stop asked
 * for (Ctrl-C or SIGTERM to the runner), on which the loop throws, so a trial in flight ends within a
 * step and nothing partial of it is stored; out, a count of the member-steps taken, for the ETA.
 */
export class TrainingInterrupted extends Error {
  constructor() {
    super('training interrupted by a stop request');
    this.name = 'TrainingInterrupted';
  }
}

let check: (() => boolean) | null = null;

/** The process's stop request, e.g. a flag in shared memory set by the runner's main thread. */
export function setInterruptCheck(requested: (() => boolean) | null): void {
  check = requested;
}

export function throwIfInterrupted(): void {
  if (check !== null && check()) throw new TrainingInterrupted();
}

let counter: Float64Array | null = null;

/** Where the loops of this thread add their member-steps (e.g. memory shared with the runner), or null. */
export function setStepCounter(target: Float64Array | null): void {
  counter = target;
}

export function countSteps(memberSteps: number): void {
  if (counter !== null) counter[0] += memberSteps;
}
