/** Named small trials for `featlab train --preset`, each a partial spec a user can copy and edit. */
import type { TrialInput } from './trialSpec.js';

export const PRESETS = {
  /** A 2D three-neuron ReLU teacher with sign labels, learned by a two-layer ReLU net. */
  teacher2d: {
    model: { hiddenWidths: [100], activation: 'relu' },
    data: { task: 'teacher', inputDim: 2, teacherWidth: 3, n: 200, nTest: 2000 },
    training: { loss: 'logistic', optimizer: 'gd', learningRate: 0.5, stop: { maxSteps: 5000, targetTrainRisk: 0.01 } },
  },
  /** Yeom et al.: the built-in fls set-up at its optimal strength (FLS = 1/λ² ≈ 11): label noise, centered output, stopped at a target risk. */
  fls: {
    model: { hiddenWidths: [200], activation: 'relu', initScale: 0.3, centerOutput: true },
    data: { task: 'teacher', inputDim: 10, teacherWidth: 4, n: 400, nTest: 2000, labelNoise: { flip: 0.1 } },
    training: { loss: 'logistic', optimizer: 'gd', learningRate: 0.3, learningRateScaling: 'strength', stop: { maxSteps: 30000, targetTrainRisk: 0.1 } },
  },
  /** Boursier & Flammarion: small balanced init on a noisy linear teacher, square loss. */
  threshold: {
    model: { hiddenWidths: [300], activation: 'relu', init: 'balanced', initScale: 1e-3 },
    data: { task: 'linearTeacher', inputDim: 5, labels: 'value', n: 80, nTest: 2000, labelNoise: { additive: 0.5 } },
    training: { loss: 'square', optimizer: 'gd', learningRate: 0.05, stop: { maxSteps: 20000 } },
  },
  /** XOR in the plane with a biased two-layer ReLU net. */
  xor: {
    model: { hiddenWidths: [50], activation: 'relu', bias: true },
    data: { task: 'xor', inputDim: 2, n: 200, nTest: 1000 },
    training: { loss: 'logistic', optimizer: 'gd', learningRate: 0.5, stop: { maxSteps: 5000, targetTrainRisk: 0.01 } },
  },
  /** Xu & Ziyin: a two-layer linear net on 1D data, integrated as a gradient flow. */
  line1d: {
    model: { hiddenWidths: [50], activation: 'linear', initScale: [0.06, 0.14] },
    data: { task: 'line1d', inputDim: 10, labels: 'value', n: 100, nTest: 100 },
    training: { loss: 'square', optimizer: 'gradientFlow', learningRate: 0.01, stop: { maxSteps: 100000, maxTime: 10 } },
  },
  /** A 5-layer CNN (four 3×3 convolutions of 32 channels, the readout) on 10 000 MNIST digits, minibatch SGD, float32. */
  cnn5: {
    model: { family: 'cnn', architecture: 'cnn5', dtype: 'float32' },
    data: { name: 'mnist', n: 10000, nTest: 10000 },
    training: { loss: 'crossEntropy', optimizer: 'sgd', learningRate: 0.05, batchSize: 128, stop: { maxSteps: 800 }, record: { pointsPerDecade: 4 } },
  },
  /** ResNet-8 without batch norm (16, 32, 64 channels) on all of MNIST, minibatch SGD, float32. */
  resnet8: {
    model: { family: 'cnn', architecture: 'resnet8', dtype: 'float32' },
    // All of MNIST's training split: its classes are not balanced, so the draw is not per class.
    data: { name: 'mnist', n: 60000, nTest: 10000, perClass: false },
    // Ten epochs; a record per decade of steps (each evaluates 70 000 images).
    training: { loss: 'crossEntropy', optimizer: 'sgd', learningRate: 0.05, batchSize: 128, stop: { maxEpochs: 10, maxSteps: 5000 }, record: { pointsPerDecade: 1 } },
  },
} satisfies Record<string, TrialInput>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
