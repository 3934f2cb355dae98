/**
 * featlab as a library: the engine's public pieces, one import away (`import { runTrial } from 'featlab'`).
 * The CLI and the explorer are built on exactly these.
 */
export { parseTrialSpec, SpecError, type TrialSpec, type TrialInput } from './experiments/trialSpec.js';
export { buildData, buildModel, runEnsembleTrial, type TrialRun } from './experiments/trial.js';
export { runTrial, TRIAL_KINDS, type TrialKind } from './experiments/trialKinds.js';
export { parseExperiment, loadExperimentFile, type Experiment, type ExperimentSpec, type ExpandedTrial } from './experiments/experimentSpec.js';
export { runExperiment, type RunOptions, type RunSummary } from './run/executor.js';
export { SilentProgress } from './run/progress.js';
export { Store, StoreError, type StoredTrial } from './run/store.js';
export { trialRows, curveRows, seriesRows, toCsv, convergenceNote } from './run/tables.js';
export { reportContent, writeExperimentReport } from './report/index.js';
export { reportInput } from './report/data.js';
export { generateSynthetic, SYNTHETIC_TASKS } from './data/synthetic.js';
export { realDataSplit } from './data/real.js';
export type { DataSplit, Dataset } from './data/dataset.js';
export { MlpEnsemble, INIT_SCHEMES, type MlpConfig } from './models/mlp/index.js';
export { layerScalings, PARAMETRIZATIONS } from './models/parametrization.js';
export { getBackend } from './linalg/index.js';
export { ACTIVATIONS, LOSSES } from './linalg/elementwise.js';
export { trainEnsemble, type TrainingConfig } from './train/trainer.js';
export type { MemberResult, RecordPoint } from './train/records.js';
export { METRICS, metricsHook } from './metrics/registry.js';
export { featureSpanError, featureSpanFit, fitRidgeMap, featureResiduals, concatFeatures, cka, probeFit, ridgeProbeAccuracy, logisticProbeAccuracy } from './metrics/features.js';
export type { SpanOptions, SpanFit, RidgeOptions, ProbeOptions, ProbeFit, ProbeKind } from './metrics/features.js';
export { jacobianSpectrum, informationSpace, cumulativeEnergy, energyFraction, splitNorms, orthogonalComponent } from './metrics/jacobian.js';
export { extremalVectors, alignmentField, angleToNearest } from './metrics/extremal.js';
export { solveLinearNetwork1d, solveFromEffectivePoint, finalAlignment, regimeOf } from './theory/linearNetwork1d.js';
export { linearNetworkRates } from './theory/linearNetworkRates.js';
export { linearizedModeFactor } from './theory/linearizedResidual.js';
