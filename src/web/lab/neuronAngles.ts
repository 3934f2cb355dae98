/**
 * Where the neurons of a planar net point: the directions θ_j = atan2(w_j,y, w_j,x) binned on the
 * circle, each neuron weighted by its contribution |a_j|·‖w_j‖ and split by the sign of a_j (the lab's
 * polar density, readable at widths where arrows overlap). Uniformly random directions put 1/bins of
 * the mass in every bin: that is the chance level drawn beside it.
 */
export interface AngleHistogram {
  readonly bins: number;
  /** Mass per bin (bin b covers [b, b + 1)·2π/bins from the positive x axis), summing to 1 over both signs. */
  readonly positive: readonly number[];
  readonly negative: readonly number[];
  /** The largest bin's mass (both signs together) and the chance level 1/bins. */
  readonly peak: number;
  readonly chance: number;
}

export function angleHistogram(wx: readonly number[], wy: readonly number[], outputWeight: readonly number[], bins = 36): AngleHistogram {
  const positive = new Array<number>(bins).fill(0);
  const negative = new Array<number>(bins).fill(0);
  let total = 0;
  for (let j = 0; j < wx.length; j++) {
    const norm = Math.hypot(wx[j], wy[j]);
    const weight = Math.abs(outputWeight[j]) * norm;
    if (!(weight > 0) || !Number.isFinite(weight)) continue;
    const angle = Math.atan2(wy[j], wx[j]);
    const bin = Math.min(bins - 1, Math.floor(((angle + 2 * Math.PI) % (2 * Math.PI)) / ((2 * Math.PI) / bins)));
    (outputWeight[j] >= 0 ? positive : negative)[bin] += weight;
    total += weight;
  }
  const scale = total > 0 ? 1 / total : 0;
  const pos = positive.map((v) => v * scale);
  const neg = negative.map((v) => v * scale);
  return { bins, positive: pos, negative: neg, peak: Math.max(0, ...pos.map((v, b) => v + neg[b])), chance: 1 / bins };
}
