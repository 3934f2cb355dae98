/** What a finished trial hands to the store: its status, final numbers, curve and vector series. */
import type { RecordPoint, SeriesPoint } from '../train/records.js';

export type { SeriesPoint };

export type TrialStatus = 'completed' | 'diverged' | 'failed';

export interface TrialRecord {
  readonly id: string;
  readonly status: TrialStatus;
  readonly stopReason: string | null;
  readonly error: string | null;
  readonly steps: number | null;
  readonly time: number | null;
  readonly seconds: number;
  readonly final: RecordPoint | null;
  readonly curve: readonly RecordPoint[];
  readonly series: readonly SeriesPoint[];
}
