/** The page's handle on the lab worker: commands out, snapshots in. */
import type { LabState } from '../../lab/labState.js';
import type { PageMessage, WorkerMessage } from './messages.js';

export interface LabSessionEvents {
  ready(message: Extract<WorkerMessage, { type: 'ready' }>): void;
  snapshot(message: Extract<WorkerMessage, { type: 'snapshot' }>): void;
  error(message: string): void;
}

export class LabSession {
  private readonly worker = new Worker(new URL('./labWorker.ts', import.meta.url), { type: 'module' });
  private pendingExport: ((spec: Record<string, unknown>) => void) | null = null;
  /** Callers of stepAndWait, answered in order by the snapshots that follow their steps. */
  private waiting: ((ok: boolean) => void)[] = [];
  running = false;

  constructor(private readonly events: LabSessionEvents) {
    this.worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const m = event.data;
      if (m.type === 'ready') events.ready(m);
      else if (m.type === 'snapshot') {
        this.running = m.running;
        events.snapshot(m);
        this.waiting.shift()?.(true);
      } else if (m.type === 'exported') {
        this.pendingExport?.(m.spec);
        this.pendingExport = null;
      } else {
        this.running = false;
        this.failWaiting();
        events.error(m.message);
      }
    };
    this.worker.onerror = (event) => {
      this.failWaiting();
      events.error(event.message);
    };
  }

  private failWaiting(): void {
    for (const answer of this.waiting.splice(0)) answer(false);
  }

  private send(message: PageMessage): void {
    this.worker.postMessage(message);
  }

  reset(state: LabState): void {
    this.send({ type: 'reset', state });
  }

  run(stepsPerFrame?: number): void {
    this.running = true;
    this.send({ type: 'run', ...(stepsPerFrame ? { stepsPerFrame } : {}) });
  }

  pause(): void {
    this.running = false;
    this.send({ type: 'pause' });
  }

  step(steps: number): void {
    this.running = false;
    this.send({ type: 'step', steps });
  }

  /** Trains `steps` steps; resolves once their snapshot has been drawn (false when the run failed). */
  stepAndWait(steps: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.step(steps);
    });
  }

  rates(state: Pick<LabState, 'learningRate' | 'rateFirst' | 'rateSecond'>): void {
    this.send({ type: 'rates', learningRate: state.learningRate, rateFirst: state.rateFirst, rateSecond: state.rateSecond });
  }

  exportSpec(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.pendingExport = resolve;
      this.send({ type: 'export' });
    });
  }

  close(): void {
    this.failWaiting();
    this.worker.terminate();
  }
}
