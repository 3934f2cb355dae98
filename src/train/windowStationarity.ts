/**
 * A Clarke-type stationarity test over a window of W steps (stop.windowStationarity).
 *
 * Seed 001's theory is a Clarke-subdifferential flow. At a ReLU kink gradient descent chatters: a run whose
 * parameters no longer move keeps a per-step ‖∇L‖ of order 1e-3, so a per-step gradient rule never fires there.
 * Over a window the mean gradient
 *     ḡ = (1/W) Σ_{s = t−W}^{t−1} ∇L(θ_s),   per layer l:  ḡ_l = (θ_{t−W} − θ_t)_l / (η_l · W)
 * (exactly, for gradient descent with step η_l on layer l) is a convex combination of gradients at points on the
 * window's path, an element of Goldstein's ε-subdifferential with ε the path's radius: a small ‖ḡ‖ over a short
 * path certifies approximate Clarke stationarity where ‖∇L(θ_t)‖ cannot. The relative loss change over the window,
 * (L_{t−W} − L_t) / L_{t−W}, guards against a slow slide with a small mean gradient. For Adam ḡ reads as the
 * parameters' velocity in units of the learning rate (its steps are not gradients).
 *
 * The test runs at steps that are multiples of W, on the trained parameters.
 */
import type { Model } from '../models/model.js';

export interface WindowReading {
  /** ‖ḡ‖₂ over the trained parameters. */
  readonly meanGradient: number;
  /** (L_{t−W} − L_t) / |L_{t−W}|. */
  readonly relativeLossChange: number;
}

export class WindowStationarity {
  /** Member k's trained parameters at its last window boundary (concatenated slots), its loss and step there. */
  private readonly snapshots: (Float64Array | null)[];
  private readonly losses: Float64Array;
  private readonly at: Float64Array;
  /** Each member's latest full window, or null before it has one. */
  readonly latest: (WindowReading | null)[];

  constructor(
    private readonly model: Model,
    /** rates[k][l]: member k's step size on layer l (0 where frozen). */
    private readonly rates: readonly Float64Array[],
    readonly window: number,
  ) {
    const K = model.ensembleSize;
    this.snapshots = Array.from({ length: K }, () => null);
    this.losses = new Float64Array(K);
    this.at = new Float64Array(K).fill(-1);
    this.latest = Array.from({ length: K }, () => null);
  }

  /**
   * Member k at a step (its state and training loss there): at a window boundary, the reading of the window
   * that ends here (when the previous boundary was observed) and a new snapshot; null elsewhere.
   */
  observe(k: number, step: number, loss: number): WindowReading | null {
    if (step % this.window !== 0) return null;
    // A second check at the same step (a limit and a record at once) reads the same window.
    if (this.at[k] === step) return this.latest[k];
    const trained = this.model.slots.filter((slot) => slot.trained && this.rates[k][slot.layer] > 0);
    const previous = this.snapshots[k];
    const complete = previous !== null && this.at[k] === step - this.window;
    const snapshot = previous ?? new Float64Array(trained.reduce((sum, slot) => sum + slot.size, 0));
    // One pass: each parameter's window-mean gradient against the old snapshot, then the snapshot moves on.
    let gradient = 0;
    let offset = 0;
    for (const slot of trained) {
      const now = slot.values.subarray(k * slot.size, (k + 1) * slot.size);
      const scale = 1 / (this.rates[k][slot.layer] * this.window);
      for (let i = 0; i < slot.size; i++) {
        const value = Number(now[i]);
        if (complete) {
          const g = (value - snapshot[offset + i]) * scale;
          gradient += g * g;
        }
        snapshot[offset + i] = value;
      }
      offset += slot.size;
    }
    if (complete) this.latest[k] = { meanGradient: Math.sqrt(gradient), relativeLossChange: (this.losses[k] - loss) / Math.abs(this.losses[k]) };
    this.snapshots[k] = snapshot;
    this.losses[k] = loss;
    this.at[k] = step;
    return complete ? this.latest[k] : null;
  }

  /** The window boundaries up to maxSteps (a many-steps loop hands back at each). */
  boundaries(maxSteps: number): number[] {
    return Array.from({ length: Math.floor(maxSteps / this.window) + 1 }, (_, i) => i * this.window);
  }
}
