/** Progress of a run: a bar with rate and ETA on a terminal, plain log lines otherwise. */
import { SingleBar } from 'cli-progress';

export interface Progress {
  start(total: number, skipped: number): void;
  /** workFraction: the share of the run's work (member-steps against the trials' step budgets) done. */
  update(done: number, failed: number, workFraction?: number): void;
  stop(): void;
  /** A line for the user while the run goes on (a stop's notice), left standing: no later redraw covers it. */
  notice(line: string): void;
}

/**
 * Trials per minute, and the time left: from the work done (steps) when known, since trials differ
 * in length and many stop early; from the trial count otherwise.
 */
function rateText(done: number, started: number, workFraction?: number): { perMinute: number; eta: (total: number) => string } {
  const minutes = (performance.now() - started) / 60000;
  const perMinute = minutes > 0 ? done / minutes : 0;
  return {
    perMinute,
    eta: (total) => {
      let seconds: number;
      if (workFraction !== undefined && workFraction > 0) seconds = minutes * 60 * ((1 - workFraction) / workFraction);
      else if (done > 0 && perMinute > 0) seconds = ((total - done) / perMinute) * 60;
      else return '?';
      return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
    },
  };
}

export class TerminalProgress implements Progress {
  private readonly bar: SingleBar;
  private started = 0;
  private total = 0;
  /** After a notice the bar is gone for good (a redraw would overwrite the notice's line). */
  private stopped = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {
    this.bar = new SingleBar({ format: '{bar} {value}/{total} trials | {failed} failed | {rate}/min | ETA {etaText}', hideCursor: true, clearOnComplete: false, stream });
  }

  start(total: number): void {
    this.started = performance.now();
    this.total = total;
    this.bar.start(total, 0, { failed: 0, rate: '0', etaText: '?' });
  }

  update(done: number, failed: number, workFraction?: number): void {
    if (this.stopped) return;
    const r = rateText(done, this.started, workFraction);
    this.bar.update(done, { failed, rate: r.perMinute.toFixed(1), etaText: r.eta(this.total) });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
  }

  notice(line: string): void {
    this.stop();
    this.stream.write(`${line}\n`);
  }
}

export class LogProgress implements Progress {
  private started = 0;
  private total = 0;
  private lastLine = 0;
  private lastDone = -1;

  constructor(private readonly write: (line: string) => void) {}

  start(total: number, skipped: number): void {
    this.started = performance.now();
    this.total = total;
    this.write(`featlab: ${total} trials to run${skipped ? `, ${skipped} already stored` : ''}`);
  }

  update(done: number, failed: number, workFraction?: number): void {
    const now = performance.now();
    // At most one line a second when trials finish, one every 15 s while they run, and always the last.
    const quiet = done === this.lastDone ? 15000 : 1000;
    if (done < this.total && now - this.lastLine < quiet) return;
    if (done === this.total && this.lastDone === done) return;
    this.lastLine = now;
    this.lastDone = done;
    const r = rateText(done, this.started, workFraction);
    this.write(`featlab: ${done}/${this.total} done, ${failed} failed, ${r.perMinute.toFixed(1)} trials/min, ETA ${r.eta(this.total)}`);
  }

  stop(): void {}

  notice(line: string): void {
    this.write(line);
  }
}

export class SilentProgress implements Progress {
  start(): void {}
  update(): void {}
  stop(): void {}
  /** Even a quiet run says why it stops. */
  notice(line: string): void {
    process.stderr.write(`${line}\n`);
  }
}
