/**
 * One report folder per experiment: index.html (figures inlined as SVG, so the page stands alone),
 * each figure as .svg, .png and its Vega-Lite spec (.vl.json), and the results as CSV.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng, renderSvg } from './render.js';
import { toCsv } from '../run/tables.js';

export interface Figure {
  /** File-name-safe id. */
  readonly id: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export interface ReportContent {
  readonly title: string;
  /** The finding in a few lines (printed by `featlab run` too). */
  readonly summary: readonly string[];
  readonly figures: readonly Figure[];
  readonly table: readonly Record<string, string | number | boolean | null>[];
}

export interface ReportMeta {
  readonly experiment: string;
  readonly featlabVersion: string;
  readonly spec: unknown;
  readonly seeds: readonly number[];
  readonly trials: number;
  readonly seconds: number;
  readonly generatedAt: string;
}

export interface WrittenReport {
  readonly dir: string;
  readonly html: string;
  readonly files: readonly string[];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatCell(v: string | number | boolean | null): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  return escapeHtml(String(v));
}

const STYLE = `body{font-family:"DejaVu Sans",system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.summary{background:#f5f7fa;border-left:4px solid #4c78a8;padding:.6em 1em}
.figures{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0;max-width:520px}figcaption{font-size:.9em;color:#444}
figure a{font-size:.8em;margin-right:.8em}table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f0f0f0}pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.8em}.meta td{text-align:left}`;

export async function writeReport(dir: string, content: ReportContent, meta: ReportMeta): Promise<WrittenReport> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    writeFileSync(join(dir, name), data);
    files.push(name);
  };
  const figureHtml: string[] = [];
  for (const f of content.figures) {
    const svg = await renderSvg(f.spec);
    write(`${f.id}.svg`, svg);
    write(`${f.id}.png`, renderPng(svg));
    write(`${f.id}.vl.json`, JSON.stringify(f.spec, null, 1));
    figureHtml.push(
      `<figure id="${f.id}">${svg}<figcaption>${escapeHtml(f.caption)}</figcaption><a href="${f.id}.png">PNG</a><a href="${f.id}.svg">SVG</a><a href="${f.id}.vl.json">Vega-Lite spec</a></figure>`,
    );
  }
  write('results.csv', toCsv(content.table));
  const columns = [...new Set(content.table.flatMap((r) => Object.keys(r)))];
  const table = `<table><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>${content.table
    .map((r) => `<tr>${columns.map((c) => `<td>${formatCell(r[c] ?? null)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const metaRows: [string, string][] = [
    ['experiment', meta.experiment],
    ['featlab', meta.featlabVersion],
    ['trials', String(meta.trials)],
    ['seeds', meta.seeds.join(', ')],
    ['compute time', `${meta.seconds.toFixed(1)} s (sum over trials)`],
    ['generated', meta.generatedAt],
  ];
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(content.title)}</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(content.title)}</h1>
<div class="summary">${content.summary.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</div>
<h2>Figures</h2><div class="figures">${figureHtml.join('\n')}</div>
<h2>Results</h2><p><a href="results.csv">results.csv</a></p>${table}
<h2>Run</h2><table class="meta">${metaRows.map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Spec</h2><pre>${escapeHtml(JSON.stringify(meta.spec, null, 2))}</pre>
</body></html>
`;
  write('index.html', html);
  return { dir, html: join(dir, 'index.html'), files };
}
