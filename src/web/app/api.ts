/** The explorer API's answers, typed as the server sends them. */
import type { ExperimentSummary } from '../../run/store.js';
import type { Figure } from '../../report/html.js';
import type { Row } from '../../run/tables.js';
import type { RecordPoint } from '../../train/records.js';

export interface ExperimentList {
  readonly store: string;
  readonly exists: boolean;
  readonly experiments: ExperimentSummary[];
}

export interface ExperimentDetail {
  readonly summary: ExperimentSummary;
  readonly spec: Record<string, unknown>;
  readonly title: string;
  readonly findings: string[];
  readonly figures: Figure[];
  /** The sweep axes (dotted paths, "seed", "part"), columns of the rows. */
  readonly axes: string[];
  readonly rows: Row[];
}

export interface TrialDetail {
  readonly id: string;
  readonly config: unknown;
  readonly status: string;
  readonly stopReason: string | null;
  readonly error: string | null;
  readonly steps: number | null;
  readonly final: RecordPoint | null;
  readonly experiments: string[];
  readonly curves: { step: number; time: number; name: string; value: number | null }[];
}

export class ApiError extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path);
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new ApiError(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}
