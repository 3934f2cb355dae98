/**
 * Stored results: the experiments of the store, each with its report's figures (the same Vega-Lite
 * specs, here interactive: hover for values, click a point for its trials), a filterable table of
 * trials, one trial's curves and config, and downloads.
 */
import { parseTrialSpec } from '../../../experiments/trialSpec.js';
import { labStateOfTrial, labStateParams } from '../../lab/labState.js';
import type { Row } from '../../../run/tables.js';
import { getJson, type ExperimentDetail, type ExperimentList, type TrialDetail } from '../api.js';
import { liveLineSpec, showChart } from '../charts.js';
import { clear, download, formatNumber, h } from '../dom.js';

type Navigate = (path: string) => void;

function failure(root: HTMLElement, e: unknown): void {
  clear(root);
  root.append(h('div', { class: 'notice error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
}

export async function experimentListView(root: HTMLElement, navigate: Navigate): Promise<void> {
  let list: ExperimentList;
  try {
    list = await getJson<ExperimentList>('/api/experiments');
  } catch (e) {
    return failure(root, e);
  }
  clear(root);
  root.append(h('h1', {}, 'Stored results'), h('p', { class: 'muted' }, `store: ${list.store}`));
  if (list.experiments.length === 0) {
    root.append(h('p', { id: 'no-experiments' }, list.exists ? 'The store has no experiments yet.' : 'There is no store here yet: run an experiment (featlab run fls --quick) and reload.'));
    return;
  }
  const table = h('table', { id: 'experiments' }, h('tr', {}, ...['experiment', 'description', 'trials', 'completed', 'failed', 'pending', 'updated'].map((c) => h('th', {}, c))));
  for (const e of list.experiments) {
    const link = h('a', { href: `/results/${encodeURIComponent(e.name)}` }, e.name);
    link.addEventListener('click', (ev) => {
      ev.preventDefault();
      navigate(`/results/${encodeURIComponent(e.name)}`);
    });
    table.append(h('tr', { 'data-experiment': e.name }, h('td', {}, link), h('td', { class: 'left' }, e.description ?? ''), ...[e.trials, e.completed, e.failed, e.pending].map((v) => h('td', {}, String(v))), h('td', {}, e.updatedAt)));
  }
  root.append(table);
}

const LOSS_CURVES = new Set(['trainLoss', 'testLoss']);
const FIXED_COLUMNS = ['status', 'steps', 'train_loss', 'test_loss', 'train_error', 'test_error'];

export async function experimentView(root: HTMLElement, name: string, search: URLSearchParams, navigate: Navigate): Promise<void> {
  let detail: ExperimentDetail;
  try {
    detail = await getJson<ExperimentDetail>(`/api/experiments/${encodeURIComponent(name)}`);
  } catch (e) {
    return failure(root, e);
  }
  const axes = detail.axes;
  const filters = new URLSearchParams(search);
  const trialPanel = h('section', { id: 'trial-panel', class: 'trial-panel', hidden: true });
  const tableBox = h('div', { id: 'trial-table' });

  const setUrl = () => history.replaceState(null, '', `/results/${encodeURIComponent(name)}${filters.toString() ? `?${filters.toString()}` : ''}`);

  clear(root);
  const back = h('a', { href: '/results' }, '← all experiments');
  back.addEventListener('click', (ev) => {
    ev.preventDefault();
    navigate('/results');
  });
  const specLink = h('a', { href: `/api/experiments/${encodeURIComponent(name)}/spec.json`, download: `${name}.json`, id: 'download-spec' }, 'spec (JSON)');
  const csvLink = h('a', { href: `/api/experiments/${encodeURIComponent(name)}/results.csv`, download: `${name}.csv`, id: 'download-csv' }, 'results (CSV)');
  root.append(
    back,
    h('h1', { id: 'experiment-title' }, detail.title),
    h('p', { class: 'muted' }, `${name}: ${detail.summary.trials} trials, ${detail.summary.completed} completed, ${detail.summary.failed} failed, ${detail.summary.pending} pending`),
    h('ul', { class: 'findings' }, ...detail.findings.map((f) => h('li', {}, f))),
    h('p', { class: 'downloads' }, 'Download: ', specLink, ' · ', csvLink, ' · each figure from its ⋯ menu (SVG, PNG) or its spec link'),
  );

  const columns = new Set(detail.rows.flatMap((r) => Object.keys(r)));
  const figureBox = h('div', { class: 'figures' });
  root.append(figureBox);
  if (detail.figures.length === 0) figureBox.append(h('p', {}, 'No figure yet: no finished trial.'));
  for (const figure of detail.figures) {
    const chart = h('div', { class: 'chart' });
    const specDownload = h('a', { href: '#' }, 'Vega-Lite spec');
    specDownload.addEventListener('click', (ev) => {
      ev.preventDefault();
      download(`${name}-${figure.id}.vl.json`, `${JSON.stringify(figure.spec, null, 2)}\n`);
    });
    figureBox.append(h('figure', { 'data-figure-id': figure.id }, chart, h('figcaption', {}, figure.caption, ' ', specDownload)));
    void showChart(chart, figure.spec, `${name}-${figure.id}`).then((view) => {
      view.addEventListener('click', (_event, item) => {
        const datum = (item as { datum?: Record<string, unknown> } | null | undefined)?.datum;
        if (!datum) return;
        // The point's fields that are table columns pick its trials: the sweep values, or for an
        // aggregated point its group fields (e.g. the FLS an fls figure draws against).
        const keys = Object.keys(datum).filter((k) => columns.has(k) && (typeof datum[k] === 'number' || typeof datum[k] === 'string'));
        const matching = detail.rows.filter((r) => keys.length > 0 && keys.every((k) => String(r[k]) === String(datum[k])));
        if (matching.length === 0) return;
        filters.delete('trial');
        for (const k of keys) if (axes.includes(k)) filters.set(k, String(datum[k]));
        filters.set('trial', String(matching[0].trial_id));
        setUrl();
        renderTable();
        void showTrial(String(matching[0].trial_id));
      });
    });
  }

  root.append(h('h2', {}, 'Trials'), tableBox, trialPanel);

  function renderTable(): void {
    clear(tableBox);
    const statusSelect = h('select', { name: 'status' }, h('option', { value: '' }, 'any status'), ...['completed', 'diverged', 'failed', 'pending'].map((s) => h('option', { value: s }, s)));
    statusSelect.value = filters.get('status') ?? '';
    statusSelect.addEventListener('change', () => {
      if (statusSelect.value) filters.set('status', statusSelect.value);
      else filters.delete('status');
      setUrl();
      renderTable();
    });
    const bar = h('div', { class: 'filters' }, h('label', {}, 'status ', statusSelect));
    for (const axis of axes) {
      const values = [...new Set(detail.rows.map((r) => String(r[axis])))];
      const select = h('select', { name: axis, 'data-axis': axis }, h('option', { value: '' }, 'any'), ...values.map((v) => h('option', { value: v }, v)));
      select.value = filters.get(axis) ?? '';
      select.addEventListener('change', () => {
        if (select.value) filters.set(axis, select.value);
        else filters.delete(axis);
        setUrl();
        renderTable();
      });
      bar.append(h('label', {}, `${axis} `, select));
    }
    const shown = detail.rows.filter((r) => (!filters.get('status') || r.status === filters.get('status')) && axes.every((a) => !filters.get(a) || String(r[a]) === filters.get(a)));
    const columns = ['trial_id', ...axes, ...FIXED_COLUMNS];
    const table = h('table', { class: 'trials' }, h('tr', {}, ...columns.map((c) => h('th', {}, c))));
    for (const row of shown) {
      const tr = h('tr', { 'data-trial': String(row.trial_id), class: filters.get('trial') === row.trial_id ? 'selected' : undefined }, ...columns.map((c) => h('td', {}, cell(row, c))));
      tr.addEventListener('click', () => {
        filters.set('trial', String(row.trial_id));
        setUrl();
        renderTable();
        void showTrial(String(row.trial_id));
      });
      table.append(tr);
    }
    tableBox.append(bar, h('p', { class: 'muted', id: 'trial-count' }, `${shown.length} of ${detail.rows.length} trials`), table);
  }

  async function showTrial(id: string): Promise<void> {
    trialPanel.hidden = false;
    clear(trialPanel);
    let trial: TrialDetail;
    try {
      trial = await getJson<TrialDetail>(`/api/trials/${id}`);
    } catch (e) {
      trialPanel.append(h('div', { class: 'notice error' }, e instanceof Error ? e.message : String(e)));
      return;
    }
    const chart = h('div', { class: 'chart', id: 'trial-curves' });
    const config = h('pre', { id: 'trial-config' }, JSON.stringify(trial.config, null, 2));
    const actions = h('p', { class: 'buttons' });
    const save = h('button', { type: 'button' }, 'Download config');
    save.addEventListener('click', () => download(`trial-${id}.json`, `${JSON.stringify(trial.config, null, 2)}\n`));
    actions.append(save);
    try {
      // Stored configs spell non-finite numbers (an unbounded gradient-flow step) as "Infinity";
      // dropping them restores the defaults they came from.
      const nonFinite = new Set<unknown>([null, 'Infinity', '-Infinity', 'NaN']);
      const config = JSON.parse(JSON.stringify(trial.config), (_key, value: unknown) => (nonFinite.has(value) ? undefined : value)) as unknown;
      const mapped = labStateOfTrial(parseTrialSpec(config));
      if ('state' in mapped) {
        const open = h('a', { href: `/lab?${labStateParams(mapped.state).toString()}`, id: 'open-in-lab', class: 'button' }, 'Open in live lab');
        open.addEventListener('click', (ev) => {
          ev.preventDefault();
          navigate(`/lab?${labStateParams(mapped.state).toString()}`);
        });
        actions.append(open);
        if (mapped.notes.length) actions.append(h('span', { class: 'muted' }, ` (${mapped.notes.join('; ')})`));
      } else actions.append(h('span', { class: 'muted', id: 'not-in-lab' }, ` Not in the live lab: ${mapped.problems.join('; ')}`));
    } catch (e) {
      actions.append(h('span', { class: 'muted' }, ` Not in the live lab: ${e instanceof Error ? e.message : String(e)}`));
    }
    const f = trial.final;
    trialPanel.append(h('h2', {}, `Trial ${id}`));
    if (trial.error) trialPanel.append(h('div', { class: 'notice error' }, trial.error));
    trialPanel.append(
      h('p', {}, `${trial.status}${trial.stopReason ? ` (${trial.stopReason})` : ''} after ${formatNumber(trial.steps)} steps; training loss ${formatNumber(f?.trainLoss)}, test loss ${formatNumber(f?.testLoss)}, test error ${formatNumber(f?.testError)}`),
      actions,
      chart,
      h('details', { open: true }, h('summary', {}, 'config'), config),
    );
    const rows = trial.curves.filter((c) => LOSS_CURVES.has(c.name) && typeof c.value === 'number' && c.value > 0).map((c) => ({ x: c.step, y: c.value, series: c.name === 'trainLoss' ? 'train' : 'test' }));
    const view = await showChart(chart, liveLineSpec({ title: 'loss during training', x: 'step', y: 'loss', logY: true, logX: true }), `trial-${id}-loss`);
    await view.insert('points', rows).runAsync();
    await showRecordedCurves(trial, chart);
  }

  /** Every other recorded curve (errors, the metrics), one at a time, chosen from a list. */
  async function showRecordedCurves(trial: TrialDetail, after: HTMLElement): Promise<void> {
    const names = [...new Set(trial.curves.filter((c) => !LOSS_CURVES.has(c.name) && typeof c.value === 'number').map((c) => c.name))].sort();
    if (names.length === 0) return;
    const pick = h('select', { id: 'trial-metric-name' }, ...names.map((n) => h('option', { value: n }, n)));
    const box = h('div', { class: 'chart', id: 'trial-metric' });
    after.after(h('label', {}, 'recorded curve ', pick), box);
    const draw = async () => {
      clear(box);
      const points = trial.curves.filter((c) => c.name === pick.value && typeof c.value === 'number').map((c) => ({ x: c.step, y: c.value, series: pick.value }));
      const chartView = await showChart(box, liveLineSpec({ title: pick.value, x: 'step', y: pick.value, logY: false, logX: true }), `trial-${trial.id}-${pick.value}`);
      await chartView.insert('points', points).runAsync();
    };
    pick.addEventListener('change', () => void draw());
    await draw();
  }

  renderTable();
  const selected = filters.get('trial');
  if (selected) await showTrial(selected);
}

function cell(row: Row, column: string): string {
  const v = row[column];
  return typeof v === 'number' ? formatNumber(v) : v === null || v === undefined ? '—' : String(v);
}
