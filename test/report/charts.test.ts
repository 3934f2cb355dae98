import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineChart, type Datum } from '../../src/report/charts.js';
import { renderSvg } from '../../src/report/render.js';

/** The numbers in the errorband's accessible labels ("Mean of y: 1.15; …"). */
function bandLabels(svg: string): string[] {
  return [...svg.matchAll(/aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="errorband"/g)].map((m) => m[1]);
}

describe('line charts', () => {
  const data: Datum[] = [];
  for (let x = 1; x <= 3; x++) for (let seed = 0; seed < 4; seed++) data.push({ 'sweep.x': x, 'metric.value': x + 0.1 * seed, seed });

  it('a band over a dotted metric name holds the mean ± SE, not NaN (Vega-Lite loses the escape in errorband)', async () => {
    const svg = await renderSvg(lineChart({ title: 't', data, x: { field: 'sweep.x', title: 'x' }, y: { field: 'metric.value', title: 'y' }, band: true }));
    const labels = bandLabels(svg);
    assert.ok(labels.length > 0, 'an errorband is drawn');
    for (const l of labels) assert.ok(!l.includes('NaN'), l);
    // At x = 1 the values are 1, 1.1, 1.2, 1.3: mean 1.15, SE = sd/2 = 0.0645.
    assert.match(svg, /Mean of y: 1\.15; Mean \+ stderr of y: 1\.2145/);
  });
});
