/**
 * The input plane on canvas: the decision boundary (sign and size of f on a grid) under the data,
 * and the first-layer neurons as arrows from the origin (direction and norm of w_j, coloured by the
 * sign of the output weight a_j, thickness by |a_j|), with the teacher directions dashed.
 */
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';

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

/** `scale`: arrows by norm relative to the longest (`norm`), or every one full length (`unit`: directions only, where norms are still tiny). */
export function drawNeurons(canvas: HTMLCanvasElement, data: LabData, snapshot: LabSnapshot, scale: 'norm' | 'unit' = 'norm'): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const size = canvas.width;
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
