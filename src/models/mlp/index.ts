/** The MLP family: fully connected nets with an ensemble axis, their kernels per device. */
export * from './ensemble.js';
export type { MlpBatch, MlpEvaluation, MlpGradients, MlpKernels, MlpTrainControl } from './kernels.js';
export { mlpKernelsFor } from './kernels.js';
