/** Any experiment: final train and test numbers against the first sweep axis, one line per value of the second. */
import { lineChart } from './charts.js';
import { numericRows, spansDecades, type ReportInput } from './data.js';
import type { Figure, ReportContent } from './html.js';

export function genericReport(input: ReportInput): ReportContent {
  const [xAxis, second] = input.axes.filter((a) => a !== 'seed');
  // A second axis stepped together with the first (zip) adds no line of its own.
  const pairs = new Set(input.rows.map((r) => `${String(r[xAxis])}|${String(r[second])}`));
  const xs = new Set(input.rows.map((r) => String(r[xAxis])));
  const colorAxis = second && pairs.size > xs.size ? second : undefined;
  const figures: Figure[] = [];
  if (xAxis) {
    for (const [field, title] of [
      ['test_error', 'test error'],
      ['test_loss', 'test loss'],
      ['train_loss', 'training loss at the end'],
    ] as const) {
      const data = numericRows(input.rows, [xAxis, field]);
      if (data.length === 0) continue;
      figures.push({
        id: field,
        caption: `${title} against ${xAxis}${colorAxis ? `, one line per ${colorAxis}` : ''}; mean over seeds with a ±1 standard error band`,
        spec: lineChart({
          title: `${title} vs ${xAxis}`,
          data,
          x: { field: xAxis, title: xAxis, log: spansDecades(data.map((d) => d[xAxis] as number)) },
          y: { field, title },
          color: colorAxis ? { field: colorAxis, title: colorAxis } : undefined,
          band: true,
        }),
      });
    }
  }
  const done = input.rows.filter((r) => r.status === 'completed' || r.status === 'diverged').length;
  return {
    title: input.spec.report.title ?? input.spec.description ?? input.name,
    summary: [`${done} of ${input.rows.length} trials finished.`],
    figures,
    table: input.rows,
  };
}
