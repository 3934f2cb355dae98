/**
 * The input plane on canvas: the decision boundary (sign and size of f on a grid) under the data,
 * and the first-layer neurons as arrows from the origin (direction and norm of w_j, coloured by the
 * sign of the output weight a_j, thickness by |a_j|), with the teacher directions dashed.
 */
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';
import { angleHistogram } from '../../lab/neuronAngles.js';

const POSITIVE = [31, 119, 180];
const NEGATIVE = [230, 120, 20];

function toCanvas(canvas: HTMLCanvasElement, extent: number) {
  const size = canvas.width;
  return { x: (v: number) => ((v + extent) / (2 * extent)) * size, y: (v: number) => ((extent - v) / (2 * extent)) * size };
}

export function drawBoundary(canvas: HTMLCanvasElement, data: LabData, snapshot: LabSnapshot): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { size, values } = snapshot.boundary;
  // One pixel per grid cell, then scaled up smoothly: no seams between cells.
  const cells = new ImageData(size, size);
  // Regression toys: colour by f relative to the targets' range; classification: by tanh(f).
  const scale = data.regression ? Math.max(...data.target.map(Math.abs), 1e-12) : 1;
  for (let i = 0; i < size * size; i++) {
    const f = values[i];
    const t = Math.tanh(Number.isFinite(f) ? f / scale : 0);
    const rgb = t >= 0 ? POSITIVE : NEGATIVE;
    const a = 0.08 + 0.5 * Math.abs(t);
    for (let c = 0; c < 3; c++) cells.data[4 * i + c] = Math.round(255 * (1 - a) + rgb[c] * a);
    cells.data[4 * i + 3] = 255;
  }
  const grid = document.createElement('canvas');
  grid.width = grid.height = size;
  grid.getContext('2d')?.putImageData(cells, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(grid, 0, 0, canvas.width, canvas.height);
  const at = toCanvas(canvas, data.extent);
  for (let i = 0; i < data.x.length; i++) {
    const label = data.target[i];
    const rgb = label >= 0 ? POSITIVE : NEGATIVE;
    ctx.beginPath();
    ctx.arc(at.x(data.x[i]), at.y(data.y[i]), 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
    ctx.fill();
    ctx.strokeStyle = 'white';
    ctx.lineWidth = 1;
    ctx.stroke();
  }
}

/** The plane's background: axes and the teacher directions (dashed) through the middle. */
function drawAxes(ctx: CanvasRenderingContext2D, size: number, data: LabData): { mid: number; radius: number } {
  ctx.clearRect(0, 0, size, size);
  ctx.fillStyle = '#fbfbfd';
  ctx.fillRect(0, 0, size, size);
  const mid = size / 2;
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, mid);
  ctx.lineTo(size, mid);
  ctx.moveTo(mid, 0);
  ctx.lineTo(mid, size);
  ctx.stroke();
  const radius = 0.46 * size;
  ctx.setLineDash([5, 4]);
  ctx.strokeStyle = '#333';
  for (const [dx, dy] of data.directions) {
    ctx.beginPath();
    ctx.moveTo(mid - dx * radius, mid + dy * radius);
    ctx.lineTo(mid + dx * radius, mid - dy * radius);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  return { mid, radius };
}

/**
 * The neurons' directions as a polar density (neuronAngles.ts): one wedge per 10° bin, its area the
 * share of the contribution |a_j|·‖w_j‖ pointing there (positive a_j blue, negative orange), and the
 * dashed circle the share of uniformly random directions. The peak share and the chance level are on
 * the canvas's data-peak and data-chance.
 */
export function drawAngleDensity(canvas: HTMLCanvasElement, data: LabData, snapshot: LabSnapshot): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const size = canvas.width;
  const { mid, radius } = drawAxes(ctx, size, data);
  const { wx, wy, outputWeight } = snapshot.neurons;
  const histogram = angleHistogram(wx, wy, outputWeight);
  const top = Math.max(histogram.peak, histogram.chance);
  const radiusOf = (mass: number) => radius * Math.sqrt(mass / top);
  const width = (2 * Math.PI) / histogram.bins;
  for (const [masses, rgb] of [
    [histogram.positive.map((v, b) => v + histogram.negative[b]), NEGATIVE],
    [histogram.positive, POSITIVE],
  ] as const) {
    ctx.fillStyle = `rgba(${rgb[0]},${rgb[1]},${rgb[2]},0.8)`;
    masses.forEach((mass, b) => {
      if (!(mass > 0)) return;
      ctx.beginPath();
      ctx.moveTo(mid, mid);
      // Canvas angles run clockwise (y down): the plane's angle θ is −θ here.
      ctx.arc(mid, mid, radiusOf(mass), -(b + 1) * width, -b * width);
      ctx.closePath();
      ctx.fill();
    });
  }
  ctx.setLineDash([3, 3]);
  ctx.strokeStyle = '#555';
  ctx.beginPath();
  ctx.arc(mid, mid, radiusOf(histogram.chance), 0, 2 * Math.PI);
  ctx.stroke();
  ctx.setLineDash([]);
  canvas.dataset.peak = String(histogram.peak);
  canvas.dataset.chance = String(histogram.chance);
  ctx.fillStyle = '#555';
  ctx.font = '11px "DejaVu Sans", system-ui, sans-serif';
  ctx.fillText(`densest 10°: ${(100 * histogram.peak).toFixed(1)}% of |a|·‖w‖ (random: ${(100 * histogram.chance).toFixed(1)}%, dashed)`, 6, size - 6);
}

/** `scale`: arrows by norm relative to the longest (`norm`), or every one full length (`unit`: directions only, where norms are still tiny). */
export function drawNeurons(canvas: HTMLCanvasElement, data: LabData, snapshot: LabSnapshot, scale: 'norm' | 'unit' = 'norm'): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const size = canvas.width;
  const { mid, radius } = drawAxes(ctx, size, data);
  const { wx, wy, outputWeight } = snapshot.neurons;
  const norms = wx.map((x, j) => Math.hypot(x, wy[j]));
  const maxNorm = Math.max(...norms, 1e-300);
  const maxA = Math.max(...outputWeight.map(Math.abs), 1e-300);
  for (let j = 0; j < wx.length; j++) {
    const length = scale === 'unit' ? (norms[j] > 0 ? radius : 0) : (norms[j] / maxNorm) * radius;
    if (!(length > 0.5)) continue;
    const ux = wx[j] / norms[j];
    const uy = wy[j] / norms[j];
    const ex = mid + ux * length;
    const ey = mid - uy * length;
    const rgb = outputWeight[j] >= 0 ? POSITIVE : NEGATIVE;
    ctx.strokeStyle = ctx.fillStyle = `rgba(${rgb[0]},${rgb[1]},${rgb[2]},0.85)`;
    ctx.lineWidth = 0.8 + 2.4 * (Math.abs(outputWeight[j]) / maxA);
    ctx.beginPath();
    ctx.moveTo(mid, mid);
    ctx.lineTo(ex, ey);
    ctx.stroke();
    const head = Math.min(8, 0.3 * length);
    ctx.beginPath();
    ctx.moveTo(ex, ey);
    ctx.lineTo(ex - head * (ux * 0.9 - uy * 0.45), ey + head * (uy * 0.9 + ux * 0.45));
    ctx.lineTo(ex - head * (ux * 0.9 + uy * 0.45), ey + head * (uy * 0.9 - ux * 0.45));
    ctx.closePath();
    ctx.fill();
  }
  ctx.fillStyle = '#555';
  ctx.font = '11px "DejaVu Sans", system-ui, sans-serif';
  ctx.fillText(`longest arrow: ‖w‖ = ${maxNorm.toPrecision(3)}`, 6, size - 6);
}
