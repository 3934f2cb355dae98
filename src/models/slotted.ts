/**
 * What every family's model does the same way over its members and parameter slots: flatten a
 * member's trained parameters (the Jacobian's column order), write them back, measure a gradient, read
 * its strength knobs. A family's model extends this and lists its slots.
 */
import type { DType, FloatArray } from '../linalg/matrix.js';
import type { StrengthKnobs } from './strength.js';
import type { Gradients, MemberConfig, ParameterSlot } from './model.js';

export abstract class SlottedModel {
  abstract readonly slots: readonly ParameterSlot[];
  abstract readonly members: readonly MemberConfig[];
  abstract readonly config: { readonly outputDim: number; readonly dtype: DType };
  abstract readonly layerCount: number;

  get outputDim(): number {
    return this.config.outputDim;
  }

  get dtype(): DType {
    return this.config.dtype;
  }

  get ensembleSize(): number {
    return this.members.length;
  }

  /** The knobs that set member k's feature learning strength (models/strength.ts). */
  strengthKnobs(k: number): StrengthKnobs {
    return { initScale: this.members[k].initScale, outputScale: this.members[k].outputScale, layers: this.layerCount };
  }

  /** Member k's init scale of weight layer l. */
  initScaleOf(k: number, layer: number): number {
    const s = this.members[k].initScale;
    return typeof s === 'number' ? s : s[layer];
  }

  /** Trainable parameters of one member (frozen layers excluded). */
  get parameterCount(): number {
    return this.slots.reduce((p, slot) => p + (slot.trained ? slot.size : 0), 0);
  }

  /** Trainable parameters of member k, flattened slot by slot (stored, not effective, values). */
  parameters(k: number): Float64Array {
    return this.flattenMember(k, this.slots.map((slot) => slot.values));
  }

  /** Member k's trainable parameters at initialization, flattened like parameters(). */
  initialParameters(k: number): Float64Array {
    return this.flattenMember(k, this.slots.map((slot) => slot.initial));
  }

  /** Runs f with member k's trainable parameters set back to their initial values, then restores them. */
  atInitialization<T>(k: number, f: () => T): T {
    const current = this.parameters(k);
    this.setParameters(k, this.initialParameters(k));
    try {
      return f();
    } finally {
      this.setParameters(k, current);
    }
  }

  /** ‖∇L‖₂ of member k over its trained slots, read from gradients in place (the gradientTolerance rule's norm). */
  gradientNorm(k: number, gradients: Gradients): number {
    let total = 0;
    this.slots.forEach((slot, index) => {
      if (!slot.trained) return;
      const g = gradients.slots[index];
      let s = 0;
      for (let i = k * slot.size; i < (k + 1) * slot.size; i++) s += g[i] * g[i];
      total += s;
    });
    return Math.sqrt(total);
  }

  /** Member k's slice of gradients (shaped like the parameters), flattened like parameters(). */
  gradientVector(k: number, gradients: Gradients): Float64Array {
    return this.flattenMember(k, gradients.slots);
  }

  /** Member k's part of each trained slot's array (arrays parallel to the slots), end to end. */
  private flattenMember(k: number, arrays: readonly FloatArray[]): Float64Array {
    const out = new Float64Array(this.parameterCount);
    let o = 0;
    this.slots.forEach((slot, index) => {
      if (!slot.trained) return;
      out.set(arrays[index].subarray(k * slot.size, (k + 1) * slot.size), o);
      o += slot.size;
    });
    return out;
  }

  /** Writes member k's trainable parameters from a flat vector (inverse of parameters()). */
  setParameters(k: number, values: ArrayLike<number>): void {
    let o = 0;
    for (const slot of this.slots) {
      if (!slot.trained) continue;
      for (let i = k * slot.size; i < (k + 1) * slot.size; i++) slot.values[i] = values[o++];
    }
  }
}
