/** Temporary folders, small experiment files and the featlab command for the runner tests. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Store } from '../../src/run/store.js';
import { curveRows, trialRows, type Row } from '../../src/run/tables.js';

export const bin = fileURLToPath(new URL('../../../bin/featlab.js', import.meta.url));

const madeDirs: string[] = [];
// Removed when the test file's process ends (a killed run may leave them: they are in the system's temp folder).
process.on('exit', () => {
  // Retries: a daemon a test started may still be writing into its folder as it exits.
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'featlab-test-'));
  madeDirs.push(dir);
  return dir;
}

/** A sweep of `widths.length × 2 × seeds` small trials on a 2D teacher (no target risk: every trial runs maxSteps). */
export function sweepSpec(name: string, widths: number[], seeds: number, maxSteps = 200, targetTrainRisk: number | null = 0.02): Record<string, unknown> {
  return {
    name,
    base: {
      model: { hiddenWidths: [20], activation: 'relu' },
      data: { task: 'teacher', inputDim: 2, teacherWidth: 2, n: 60, nTest: 200 },
      training: { learningRate: 0.3, stop: targetTrainRisk === null ? { maxSteps } : { maxSteps, targetTrainRisk } },
    },
    sweep: { grid: { 'model.hiddenWidths.0': widths, 'model.outputScale': [0.5, 1] }, seeds },
  };
}

export function writeSpec(dir: string, spec: unknown, file = 'spec.yaml'): string {
  const path = join(dir, file);
  writeFileSync(path, typeof spec === 'string' ? spec : stringify(spec));
  return path;
}

export function featlab(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function featlabAsync(args: string[]) {
  return spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What a run stored, without wall-clock times: trial rows and curves, in a fixed order. */
export function storedNumbers(db: string, experiment: string): { trials: Row[]; curves: Row[] } {
  const store = Store.open(db, { readonly: true });
  try {
    const trials = store.trials(experiment);
    const strip = (r: Row) => ({ ...r, seconds: null });
    return { trials: trialRows(experiment, trials).map(strip), curves: curveRows(experiment, store, trials) };
  } finally {
    store.close();
  }
}
