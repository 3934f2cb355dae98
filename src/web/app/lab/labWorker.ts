/**
 * The lab's engine in a Web Worker: the `ts` backend, trained in chunks sized to ~40 ms so that
 * pause, step, reset and rate changes are answered between chunks and the page never freezes.
 */
import { setBackend } from '../../../linalg/index.js';
import { TsBackend } from '../../../linalg/tsBackend.js';
import { regimeOf } from '../../../theory/linearNetwork1d.js';
import { LiveTraining } from '../../lab/liveTraining.js';
import type { LossPoint, PageMessage, TheoryCurve, WorkerMessage } from './messages.js';

const backend = new TsBackend();
setBackend(backend);

const scope = self as unknown as { postMessage(message: WorkerMessage): void; onmessage: ((event: MessageEvent<PageMessage>) => void) | null };
const post = (message: WorkerMessage) => scope.postMessage(message);

const CHUNK_MS = 40;
const SNAPSHOT_MS = 100;
let live: LiveTraining | null = null;
let running = false;
let chunk = 1;
let lastSnapshot = 0;
let generation = 0;
let losses: LossPoint[] = [];
/** Steps per frame when watching slowly (a snapshot after each), null at full speed. */
let stepsPerFrame: number | null = null;
const FRAME_MS = 33;

/** What the last snapshot cost (its metrics grow like width²): the next one waits at least 4× that. */
let snapshotCost = 0;

function postSnapshot(training: LiveTraining): void {
  const started = performance.now();
  post({ type: 'snapshot', snapshot: training.snapshot(), running, losses });
  snapshotCost = performance.now() - started;
  losses = [];
}

function theoryCurve(training: LiveTraining): TheoryCurve | null {
  const solution = training.theory();
  if (!solution) return null;
  // Up to the time the flow needs to settle (a few 1/rate), on a log-spaced grid.
  const end = Math.max(10 / solution.rate, 1e-6);
  const time = Array.from({ length: 200 }, (_, i) => (i === 0 ? 0 : end * 10 ** (-4 + (4 * i) / 199)));
  const states = time.map((t) => solution.at(t));
  return { time, output: states.map((s) => s.output), alignment: states.map((s) => s.alignment), ntkRatio: solution.ntkRatio, regime: regimeOf(solution.ntkRatio) };
}

function fail(e: unknown): void {
  running = false;
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}

/** Trains `steps` steps; false (after telling the page) when the loss diverged. */
function advance(training: LiveTraining, steps: number): boolean {
  const after = training.advance(steps);
  losses.push({ step: training.step, trainLoss: after.trainLoss, testLoss: after.testLoss });
  if (!training.diverged) return true;
  running = false;
  postSnapshot(training);
  fail(new Error(`the loss diverged at step ${training.step}: lower the learning rate and reset`));
  return false;
}

function loop(mine: number): void {
  if (!running || !live || mine !== generation) return;
  try {
    if (stepsPerFrame !== null) {
      // Watching slowly: a snapshot after every frame's steps.
      if (!advance(live, stepsPerFrame)) return;
      postSnapshot(live);
      setTimeout(() => loop(mine), FRAME_MS);
      return;
    }
    const started = performance.now();
    if (!advance(live, chunk)) return;
    const took = performance.now() - started;
    // Grow or shrink the chunk toward CHUNK_MS of work.
    chunk = Math.max(1, Math.min(5000, Math.round(chunk * Math.min(4, Math.max(0.25, CHUNK_MS / Math.max(took, 0.5))))));
    const now = performance.now();
    // At most a fifth of the time goes to snapshots, so wide nets still train at speed.
    if (now - lastSnapshot > Math.max(SNAPSHOT_MS, 4 * snapshotCost)) {
      lastSnapshot = now;
      postSnapshot(live);
    }
  } catch (e) {
    return fail(e);
  }
  setTimeout(() => loop(mine), 0);
}

scope.onmessage = (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case 'reset': {
        generation++;
        running = false;
        chunk = 1;
        losses = [];
        live = new LiveTraining(message.state, backend);
        live.advance(0);
        post({ type: 'ready', data: live.data(), snapshot: live.snapshot(), theory: theoryCurve(live), effectivePoint: live.effectivePointAtInit() });
        return;
      }
      case 'run':
        stepsPerFrame = message.stepsPerFrame ?? null;
        if (!live || running) return;
        running = true;
        loop(generation);
        return;
      case 'pause':
        running = false;
        if (live) postSnapshot(live);
        return;
      case 'step':
        if (!live) return;
        running = false;
        live.advance(message.steps);
        postSnapshot(live);
        return;
      case 'rates':
        live?.setLearningRates(message.learningRate, message.rateFirst, message.rateSecond);
        return;
      case 'export':
        if (live) post({ type: 'exported', spec: live.exportSpec() });
        return;
    }
  } catch (e) {
    fail(e);
  }
};
