/**
 * A stop asked for from outside a training loop (Ctrl-C or SIGTERM to the runner): every loop checks
 * it between two steps and throws, so a trial in flight ends within a step and nothing partial of it
 * is stored.
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
