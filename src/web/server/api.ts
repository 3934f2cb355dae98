/**
 * The explorer's read-only API over the store: experiments, their figures (the report templates'
 * own Vega-Lite specs), trial tables, one trial's curves, and downloads. Every bad request is a 4xx
 * with a message naming what was wrong and what is allowed.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Store, StoreError } from '../../run/store.js';
import { toCsv, trialRows } from '../../run/tables.js';
import { reportInput } from '../../report/data.js';
import { reportContent } from '../../report/index.js';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  /** Plain text (CSV) instead of JSON. */
  readonly text?: string;
  readonly contentType?: string;
  /** Sent as a download with this file name. */
  readonly filename?: string;
}

const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TRIAL_ID = /^[0-9a-f]{16}$/;
const STATUSES = ['completed', 'diverged', 'failed', 'pending'] as const;

const fail = (status: number, message: string): ApiResponse => ({ status, body: { error: message } });
const ok = (body: unknown): ApiResponse => ({ status: 200, body });

function onlyParams(query: URLSearchParams, allowed: readonly string[]): ApiResponse | null {
  for (const key of query.keys()) if (!allowed.includes(key)) return fail(400, `unknown query parameter "${key}"; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`);
  return null;
}

export class ExplorerApi {
  /** What responses call the store: its file name, never the absolute path (a page needs no map of the disk). */
  readonly storeLabel: string;

  constructor(readonly storePath: string) {
    this.storeLabel = basename(storePath);
  }

  /** Opens the store per request: experiments run while the explorer is open show up. */
  private withStore<T>(use: (store: Store) => T): T | null {
    if (!existsSync(this.storePath)) return null;
    const store = Store.open(this.storePath, { readonly: true });
    try {
      return use(store);
    } finally {
      store.close();
    }
  }

  /** `segments`: the decoded path after /api/. */
  handle(segments: readonly string[], query: URLSearchParams): ApiResponse {
    try {
      return this.route(segments, query);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      const message = e.message.split(this.storePath).join(this.storeLabel);
      // A missing experiment is not found; a store that cannot be read (a folder, another program's file) is unusable.
      return fail(/^no experiment /.test(message) ? 404 : 422, message);
    }
  }

  private route(segments: readonly string[], query: URLSearchParams): ApiResponse {
    const [head, name, file, ...rest] = segments;
    if (head === 'experiments' && name === undefined) return onlyParams(query, []) ?? this.experiments();
    if (head === 'experiments' && rest.length === 0) {
      if (!EXPERIMENT_NAME.test(name)) return fail(400, `experiment name "${name}": letters, digits, ".", "_" and "-", starting with a letter or digit`);
      if (file === undefined) return onlyParams(query, ['status']) ?? this.experiment(name, query.get('status'));
      if (file === 'spec.json') return onlyParams(query, []) ?? this.specFile(name);
      if (file === 'results.csv') return onlyParams(query, []) ?? this.csvFile(name);
      return fail(404, `no such file of an experiment: "${file}"; there are spec.json and results.csv`);
    }
    if (head === 'trials' && name !== undefined && file === undefined) {
      if (!TRIAL_ID.test(name)) return fail(400, `trial id "${name}": 16 hexadecimal digits (as featlab show prints them)`);
      return onlyParams(query, []) ?? this.trial(name);
    }
    return fail(404, `no API route /api/${segments.join('/')}; routes: /api/experiments, /api/experiments/<name>[/spec.json|/results.csv], /api/trials/<id>`);
  }

  private experiments(): ApiResponse {
    const experiments = this.withStore((s) => s.experiments());
    return ok({ store: this.storeLabel, exists: experiments !== null, experiments: experiments ?? [] });
  }

  private missing(what: string): ApiResponse {
    return fail(404, `${what}: there is no store at ${this.storeLabel} yet; run an experiment first (featlab run …)`);
  }

  private experiment(name: string, status: string | null): ApiResponse {
    if (status !== null && !(STATUSES as readonly string[]).includes(status)) return fail(400, `status: got "${status}"; allowed: ${STATUSES.join(', ')}`);
    const result = this.withStore((store) => {
      const summary = store.experiments().find((e) => e.name === name);
      if (!summary) throw new StoreError(`no experiment "${name}" in ${this.storeLabel}`);
      const input = reportInput(store, name);
      const content = reportContent(input);
      const rows = input.rows.filter((r) => status === null || r.status === status);
      return { summary, spec: input.spec, title: content.title, findings: content.summary, figures: content.figures, axes: input.axes, rows };
    });
    return result ? ok(result) : this.missing(`experiment "${name}"`);
  }

  private specFile(name: string): ApiResponse {
    const spec = this.withStore((s) => s.experimentSpec(name));
    return spec ? { status: 200, body: spec, filename: `${name}.json` } : this.missing(`experiment "${name}"`);
  }

  private csvFile(name: string): ApiResponse {
    const text = this.withStore((s) => toCsv(trialRows(name, s.trials(name))));
    return text === null ? this.missing(`experiment "${name}"`) : { status: 200, body: null, text, contentType: 'text/csv; charset=utf-8', filename: `${name}.csv` };
  }

  private trial(id: string): ApiResponse {
    const found = this.withStore((store) => {
      const trial = store.trial(id);
      return trial ? { ...trial, curves: store.curves([id]).map(({ step, time, name, value }) => ({ step, time, name, value })) } : null;
    });
    if (found === null) return fail(404, `no trial ${id} in ${this.storeLabel}`);
    return ok(found);
  }
}
