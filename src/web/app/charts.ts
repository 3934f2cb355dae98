/** Vega-Lite in the page through vega-embed: SVG renderer (crisp, and countable by tests), tooltips on hover, export menu. */
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

export type ChartView = Result['view'];

export async function showChart(element: HTMLElement, spec: TopLevelSpec, exportName?: string): Promise<ChartView> {
  const result = await embed(element, spec, {
    renderer: 'svg',
    actions: exportName ? { export: true, source: false, compiled: false, editor: false } : false,
    downloadFileName: exportName,
    tooltip: true,
  });
  return result.view;
}

/** A live chart of named series against a step axis: rows are appended as training goes. */
/** dashBy: a second nominal field drawn as the line's dash pattern (the loss split when two runs share the colours). */
export function liveLineSpec(o: { title: string; x: string; y: string; logY: boolean; logX?: boolean; dashed?: string; dashBy?: string; width?: number }): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', title: o.x, scale: o.logX ? { type: 'symlog' } : { zero: true } };
  const y = { field: 'y', type: 'quantitative', title: o.y, scale: o.logY ? { type: 'log' } : { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'top-right' } };
  const dash = o.dashBy ? { strokeDash: { field: o.dashBy, type: 'nominal', title: null, legend: { orient: 'top-left' } } } : {};
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 'container',
    height: 200,
    data: { name: 'points' },
    layer: [
      {
        mark: { type: 'line', interpolate: 'linear' },
        transform: o.dashed ? [{ filter: `datum.series !== '${o.dashed}'` }] : [],
        encoding: { x, y, color, ...dash, tooltip: [{ field: 'series', type: 'nominal' }, ...(o.dashBy ? [{ field: o.dashBy, type: 'nominal' }] : []), { field: 'x', type: 'quantitative', title: o.x }, { field: 'y', type: 'quantitative', title: o.y, format: '.4g' }] },
      },
      ...(o.dashed
        ? [{ mark: { type: 'line', strokeDash: [6, 4], color: 'black' }, transform: [{ filter: `datum.series === '${o.dashed}'` }], encoding: { x, y, detail: { field: 'series' } } }]
        : []),
    ],
  } as unknown as TopLevelSpec;
}
