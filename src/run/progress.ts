/** Progress of a run: a bar with rate and ETA on a terminal, plain log lines otherwise. */
import { SingleBar } from 'cli-progress';

export interface Progress {
  start(total: number, skipped: number): void;
  update(done: number, failed: number): void;
  stop(): void;
}

function rateText(done: number, started: number): { perMinute: number; eta: (total: number) => string } {
  const minutes = (performance.now() - started) / 60000;
  const perMinute = minutes > 0 ? done / minutes : 0;
  return {
    perMinute,
    eta: (total) => {
      if (done === 0 || perMinute === 0) return '?';
      const seconds = ((total - done) / perMinute) * 60;
      return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
    },
  };
}

export class TerminalProgress implements Progress {
  private readonly bar = new SingleBar({
    format: '{bar} {value}/{total} trials | {failed} failed | {rate}/min | ETA {etaText}',
    hideCursor: true,
    clearOnComplete: false,
  });
  private started = 0;
  private total = 0;

  start(total: number): void {
    this.started = performance.now();
    this.total = total;
    this.bar.start(total, 0, { failed: 0, rate: '0', etaText: '?' });
  }

  update(done: number, failed: number): void {
    const r = rateText(done, this.started);
    this.bar.update(done, { failed, rate: r.perMinute.toFixed(1), etaText: r.eta(this.total) });
  }

  stop(): void {
    this.bar.stop();
  }
}

export class LogProgress implements Progress {
  private started = 0;
  private total = 0;
  private lastLine = 0;

  constructor(private readonly write: (line: string) => void) {}

  start(total: number, skipped: number): void {
    this.started = performance.now();
    this.total = total;
    this.write(`featlab: ${total} trials to run${skipped ? `, ${skipped} already stored` : ''}`);
  }

  update(done: number, failed: number): void {
    const now = performance.now();
    // At most one line a second, and always the last.
    if (done < this.total && now - this.lastLine < 1000) return;
    this.lastLine = now;
    const r = rateText(done, this.started);
    this.write(`featlab: ${done}/${this.total} done, ${failed} failed, ${r.perMinute.toFixed(1)} trials/min, ETA ${r.eta(this.total)}`);
  }

  stop(): void {}
}

export class SilentProgress implements Progress {
  start(): void {}
  update(): void {}
  stop(): void {}
}
