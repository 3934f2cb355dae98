export { CnnEnsemble, type CnnConfig } from './ensemble.js';
export { cnnFamily } from './family.js';
export { CNN_ARCHITECTURES, architectureLayers, cnnLayers, cnnModelSchema, type CnnArchitecture, type CnnLayer, type CnnModelSpec } from './spec.js';
export { compilePlan, type Plan, type Shape } from './plan.js';
