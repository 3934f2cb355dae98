/**
 * Model families, each a registered value: how many weight layers a spec's model has (for the
 * per-layer lists), a lower bound on a trial's memory, and how to build its ensemble on a device.
 * A spec names its family in `model.family` (an MLP when absent); adding a family is one folder and
 * one line here.
 */
import type { Backend } from '../linalg/backend.js';
import type { Matrix } from '../linalg/matrix.js';
import type { MemberConfig, Model } from './model.js';
import { mlpFamily } from './mlp/family.js';
import { mlpModelSchema } from './mlp/spec.js';
import { cnnFamily } from './cnn/family.js';
import { cnnModelSchema } from './cnn/spec.js';
import { z } from 'zod';

/** The data a model is built for: its shape, and the training inputs for a family whose init reads them. */
export interface ModelData {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly trainInputs: Matrix;
  /** The task's directions (e.g. the one direction of 1D data), when it has them. */
  readonly directions: Matrix | null;
  /** The synthetic task, or the real data set's name. */
  readonly task: string;
  /** [channels, height, width] when the inputs are images (rows stored channel-first). */
  readonly imageShape?: readonly [number, number, number];
}

export interface ModelFamily<Config> {
  readonly name: string;
  /** Weight layers of a model of this config (per-layer lists are checked against it before a run). */
  layerCount(config: Config): number;
  /** A lower bound on one trial's bytes: to stop the absurd before it allocates, not to budget. */
  memoryBytes(config: Config, inputDim: number, points: number): number;
  /** The knob that sets its size, for the memory limit's message: the field and its value in words. */
  sizeOf(config: Config): { readonly field: string; readonly text: string };
  /** Config problems that need the data's shape, one line each naming the field (checked before a run). */
  problems(config: Config, data: Pick<ModelData, 'task'>): string[];
  build(config: Config, members: readonly MemberConfig[], data: ModelData, device: Backend): Model;
  /** The width a comparison trial narrows (its feature count's knob), or why this config has none. */
  widthOf(config: Config): number | Error;
  /** The config with that width times the fraction (rounded, at least 1): a narrow copy. */
  withWidthFraction(config: Config, fraction: number): Config;
}

export const MODEL_FAMILIES = { mlp: mlpFamily, cnn: cnnFamily } as const;

/** The spec's model part: the union of the families' schemas, told apart by `family`; an MLP when it is absent. */
export const modelSchema = z.discriminatedUnion('family', [mlpModelSchema, cnnModelSchema]);
export type ModelFamilyName = keyof typeof MODEL_FAMILIES;

export type ModelSpec = z.output<typeof modelSchema>;

/** The family of a spec's model part (an MLP when it names none), taking that part. */
export function familyOf(config: ModelSpec): ModelFamily<ModelSpec> {
  // The registry's key is the config's own `family`, so each family is only handed its own configs.
  return MODEL_FAMILIES[config.family ?? 'mlp'] as unknown as ModelFamily<ModelSpec>;
}
