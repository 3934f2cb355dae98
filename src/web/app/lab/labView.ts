/**
 * The live lab: knobs (from the state table), train / pause / step / reset, the loss curves, the
 * decision boundary, the neurons in the plane and the alignment numbers. Every knob is in the URL.
 */
import { featureLearningStrength } from '../../../models/strength.js';
import { KNOBS, LIVE_KNOBS, labStateParams, readKnob, readLabState, type Knob, type LabState } from '../../lab/labState.js';
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';
import { liveLineSpec, showChart, type ChartView } from '../charts.js';
import { clear, download, formatNumber, h } from '../dom.js';
import { LabSession } from './labSession.js';
import type { LossPoint, TheoryCurve } from './messages.js';
import { drawAngleDensity, drawBoundary, drawNeurons } from './planeView.js';

const SLIDER_STEPS = 240;

function sliderPosition(knob: Extract<Knob, { kind: 'number' }>, value: number): number {
  const [lo, hi, v] = knob.log ? [Math.log10(knob.min), Math.log10(knob.max), Math.log10(Math.max(value, knob.min))] : [knob.min, knob.max, value];
  return Math.round(((v - lo) / (hi - lo)) * SLIDER_STEPS);
}

function sliderValue(knob: Extract<Knob, { kind: 'number' }>, position: number): number {
  const t = position / SLIDER_STEPS;
  const raw = knob.log ? 10 ** (Math.log10(knob.min) + t * (Math.log10(knob.max) - Math.log10(knob.min))) : knob.min + t * (knob.max - knob.min);
  return knob.integer ? Math.round(raw) : Number(raw.toPrecision(3));
}

/** id, label, value, and the definition shown on hover. */
const READOUT: readonly [string, string, (s: LabSnapshot, state: LabState) => number | null, string][] = [
  ['step', 'step', (s) => s.step, 'optimizer steps so far (one minibatch each for sgd, and for adam with a batch size below n)'],
  ['train-loss', 'training loss', (s) => s.trainLoss, 'mean loss on all training points: logistic log(1 + e^(−yf)), or square ½(f − y)² (always on the 1D net)'],
  ['test-loss', 'test loss', (s) => s.testLoss, 'mean loss on 500 fresh points'],
  ['train-error', 'training error', (s) => s.trainError, 'fraction of training points with the wrong sign'],
  ['test-error', 'test error', (s) => s.testError, 'fraction of test points with the wrong sign'],
  ['fls', 'FLS = 1/(α·λ²)', (_s, state) => featureLearningStrength({ initScale: state.initScale, outputScale: state.outputScale, layers: 2 }), 'feature learning strength: the inverse effective output scale; large is rich (features move), small is lazy (kernel)'],
  ['directions', 'distinct directions', (s) => s.measures['neurons.distinctDirections'], 'clusters of neurons w_j within 10° of each other that carry ≥ 1 % of Σ|a_j|·‖w_j‖: few after early alignment'],
  ['top-mass', 'top-direction mass', (s) => s.measures['neurons.topDirectionMass'], 'share of Σ|a_j|·‖w_j‖ in the largest cluster; 1/width for scattered equal neurons'],
  ['teacher-alignment', 'alignment with teacher', (s) => s.measures['neurons.teacherAlignment'] ?? null, 'mean over neurons, weighted by |a_j|·‖w_j‖, of the largest |cos| with a teacher direction'],
  ['distance', 'distance from init', (s) => s.measures.distanceFromInit, '‖θ − θ₀‖ / ‖θ₀‖ over all weights'],
  ['ntk-change', 'NTK change', (s) => s.measures['ntk.relativeChange'] ?? null, '‖K − K₀‖_F / ‖K₀‖_F of the empirical NTK on 32 training points: near 0 in the kernel (lazy) regime, large when features are learned'],
  ['zeta', 'ζ (output row vs hidden)', (s) => s.measures.alignmentAngle ?? null, 'ζ = cos∠(u, Wx) between the output row and the hidden representation (Xu & Ziyin), averaged over inputs; ±1 aligned'],
];

export function labView(root: HTMLElement, search: URLSearchParams): () => void {
  const read = readLabState(search);
  let state: LabState = read.state;
  const notices = read.problems.map((p) => `link: ${p} (default used)`);

  const notice = h('div', { class: 'notice', id: 'lab-notice', role: 'status' });
  const showNotice = (lines: string[]) => {
    notice.textContent = lines.join('\n');
    notice.hidden = lines.length === 0;
  };
  showNotice(notices);

  const controls = h('form', { class: 'controls', id: 'lab-controls' });
  const inputs = new Map<keyof LabState, { set(value: LabState[keyof LabState]): void; row: HTMLElement }>();
  for (const knob of KNOBS) {
    const row = h('label', { class: 'knob', 'data-knob': knob.key }, h('span', { class: 'knob-label' }, knob.label));
    if (knob.kind === 'choice') {
      const select = h('select', { name: knob.key }, ...knob.values.map((v) => h('option', { value: v }, String(v))));
      select.addEventListener('change', () => change(knob.key, select.value as LabState[typeof knob.key]));
      row.append(select);
      inputs.set(knob.key, { set: (v) => (select.value = String(v)), row });
    } else if (knob.kind === 'flag') {
      const box = h('input', { type: 'checkbox', name: knob.key });
      box.addEventListener('change', () => change(knob.key, box.checked));
      row.append(box);
      inputs.set(knob.key, { set: (v) => (box.checked = v === true), row });
    } else {
      const slider = h('input', { type: 'range', min: 0, max: SLIDER_STEPS, step: 1, 'aria-label': knob.label });
      const field = h('input', { type: 'number', name: knob.key, min: knob.min, max: knob.max, step: 'any' });
      slider.addEventListener('input', () => {
        const v = sliderValue(knob, Number(slider.value));
        field.value = String(v);
        change(knob.key, v);
      });
      field.addEventListener('change', () => {
        const { value, problem } = readKnob(knob, field.value);
        if (problem !== undefined) {
          showNotice([problem]);
          field.value = String(state[knob.key]);
          return;
        }
        const v = value as number;
        slider.value = String(sliderPosition(knob, v));
        change(knob.key, v);
      });
      row.append(slider, field);
      inputs.set(knob.key, {
        set: (v) => {
          field.value = String(v);
          slider.value = String(sliderPosition(knob, v as number));
        },
        row,
      });
    }
    controls.append(row);
  }
  controls.addEventListener('submit', (e) => e.preventDefault());

  const runButton = h('button', { type: 'button', id: 'lab-run', class: 'primary' }, 'Train');
  const stepButton = h('button', { type: 'button', id: 'lab-step-once', title: 'one optimizer step' }, 'Step');
  const step100Button = h('button', { type: 'button', id: 'lab-step-100' }, '+100');
  const resetButton = h('button', { type: 'button', id: 'lab-reset' }, 'Reset');
  const exportButton = h('button', { type: 'button', id: 'lab-export', title: 'a JSON spec that featlab run accepts' }, 'Export as spec');
  const linkButton = h('button', { type: 'button', id: 'lab-link' }, 'Copy link');
  const buttons = h('div', { class: 'buttons' }, runButton, stepButton, step100Button, resetButton, exportButton, linkButton);
  const speed = h(
    'select',
    { id: 'lab-speed', title: 'steps between two drawn frames: slow enough to watch early alignment' },
    ...[
      ['', 'full speed'],
      ['100', '100 steps / frame'],
      ['10', '10 steps / frame'],
      ['1', '1 step / frame'],
    ].map(([value, label]) => h('option', { value }, label)),
  );
  const stepsPerFrame = () => (speed.value ? Number(speed.value) : undefined);
  const timeline = h('input', { type: 'range', id: 'lab-timeline', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'stored snapshots' });
  const timelineLabel = h('span', { id: 'lab-timeline-step', class: 'muted' }, 'step 0');
  const replayButton = h('button', { type: 'button', id: 'lab-replay', title: 'play the stored snapshots from the start' }, 'Replay');
  const unitArrows = h('input', { type: 'checkbox', id: 'lab-unit-arrows' });
  const angleDensity = h('input', { type: 'checkbox', id: 'lab-angle-density' });
  const ARROWS_CAPTION = 'neurons w_j as arrows (blue a_j > 0, orange a_j < 0; thickness |a_j|); dashed: teacher directions';
  const DENSITY_CAPTION = 'directions of the neurons: wedge area = share of |a_j|·‖w_j‖ in each 10° (blue a_j > 0, orange a_j < 0); dashed circle: random directions; dashed lines: teacher directions';
  const neuronsCaption = h('figcaption', { id: 'lab-neurons-caption' }, ARROWS_CAPTION);
  const playback = h(
    'div',
    { class: 'buttons' },
    h('label', {}, 'speed ', speed),
    h('label', {}, 'timeline ', timeline),
    timelineLabel,
    replayButton,
    h('label', { title: 'every arrow full length: directions only, while the norms are still tiny' }, unitArrows, ' unit arrows'),
    h('label', { title: 'the neurons as a polar density of their directions, weighted by |a|·‖w‖, against random directions (for wide nets)' }, angleDensity, ' angle density'),
  );

  const readout = h('dl', { class: 'readout', id: 'lab-readout' });
  const cells = new Map<string, HTMLElement>();
  for (const [id, label, , definition] of READOUT) {
    const dd = h('dd', { id: `lab-${id}` }, '—');
    cells.set(id, dd);
    readout.append(h('div', { title: definition }, h('dt', {}, label), dd));
  }

  const boundary = h('canvas', { width: 360, height: 360, id: 'lab-boundary', 'aria-label': 'decision boundary and data' });
  const neurons = h('canvas', { width: 360, height: 360, id: 'lab-neurons', 'aria-label': 'neurons in the input plane' });
  const lossChart = h('div', { class: 'chart', id: 'lab-loss-chart' });
  const theoryBox = h('div', { class: 'theory', id: 'lab-theory', hidden: true });
  const theoryChart = h('div', { class: 'chart' });
  const theoryText = h('p', {});
  theoryBox.append(theoryText, theoryChart);

  clear(root);
  root.append(
    h(
      'section',
      { class: 'lab' },
      h('aside', {}, buttons, playback, controls),
      h(
        'div',
        { class: 'lab-main' },
        notice,
        readout,
        h(
          'div',
          { class: 'planes' },
          h('figure', {}, boundary, h('figcaption', {}, 'f on the plane (blue f > 0, orange f < 0) and the training data')),
          h('figure', {}, neurons, neuronsCaption),
        ),
        lossChart,
        theoryBox,
      ),
    ),
  );

  let data: LabData | null = null;
  let lossView: ChartView | null = null;
  let theoryView: ChartView | null = null;
  let theory: TheoryCurve | null = null;
  let lastStep = -1;
  let resumeAfterReset = false;
  /** Snapshots kept for the timeline: at most TIMELINE_SIZE, thinned to every other one when full. */
  const TIMELINE_SIZE = 400;
  let snapshots: LabSnapshot[] = [];
  let replaying: ReturnType<typeof setInterval> | null = null;
  const atLiveEnd = () => Number(timeline.value) >= snapshots.length - 2;
  const keep = (s: LabSnapshot) => {
    const live = atLiveEnd();
    if (snapshots.length >= TIMELINE_SIZE) snapshots = snapshots.filter((_, i) => i % 2 === 1);
    snapshots.push(s);
    timeline.max = String(snapshots.length - 1);
    if (live) showAt(snapshots.length - 1);
    return live;
  };
  function showAt(index: number): void {
    const s = snapshots[index];
    if (!s) return;
    timeline.value = String(index);
    timelineLabel.textContent = `step ${s.step}`;
    timelineLabel.dataset.value = String(s.step);
    drawFrame(s);
  }
  function stopReplay(): void {
    if (replaying !== null) clearInterval(replaying);
    replaying = null;
    replayButton.textContent = 'Replay';
  }
  const lossReady = showChart(lossChart, liveLineSpec({ title: 'loss', x: 'step', y: 'loss', logY: true, logX: true })).then((v) => (lossView = v));

  const syncUrl = () => history.replaceState(null, '', `/lab?${labStateParams(state).toString()}`);
  const syncInputs = () => {
    for (const knob of KNOBS) inputs.get(knob.key)?.set(state[knob.key]);
    // Knobs the current setting ignores are greyed, not hidden, so a link keeps its layout.
    const ignored: [keyof LabState, boolean][] = [
      ['teachers', state.toy !== 'teacher'],
      ['loss', state.toy === 'linear1d'],
      ['batchSize', state.optimizer === 'gd' || (state.optimizer === 'adam' && state.batchSize >= state.n)],
    ];
    for (const [key, off] of ignored) inputs.get(key)?.row.classList.toggle('inactive', off);
  };
  const setRunning = (running: boolean) => {
    runButton.textContent = running ? 'Pause' : 'Train';
    runButton.dataset.running = String(running);
  };

  const session = new LabSession({
    ready: (m) => {
      data = m.data;
      theory = m.theory;
      lastStep = -1;
      stopReplay();
      snapshots = [];
      timeline.value = '0';
      void lossReady.then(() => lossView?.remove('points', () => true).runAsync());
      render(m.snapshot);
      showTheory();
      if (resumeAfterReset) {
        session.run(stepsPerFrame());
        setRunning(true);
      }
    },
    snapshot: (m) => {
      render(m.snapshot, m.losses);
      setRunning(m.running);
    },
    error: (message) => {
      setRunning(false);
      showNotice([message]);
    },
  });

  /** A new snapshot from the worker: kept on the timeline, drawn when the timeline is at its live end. */
  function render(s: LabSnapshot, history: readonly LossPoint[] = []): void {
    keep(s);
    if (s.step > lastStep) {
      const points = [...history.filter((p) => p.step > lastStep && p.step < s.step), s];
      lastStep = s.step;
      const rows = points
        .flatMap((p) => [
          { x: p.step, y: p.trainLoss, series: 'train' },
          { x: p.step, y: p.testLoss, series: 'test' },
        ])
        .filter((r) => typeof r.y === 'number' && r.y > 0);
      void lossReady.then(() => lossView?.insert('points', rows).runAsync());
      const output = s.measures['point.output'];
      if (theory && typeof output === 'number') void theoryView?.insert('points', [{ x: s.time, y: output, series: 'simulation' }]).runAsync();
    }
  }

  /** The readout and the two planes for one snapshot (live or from the timeline). */
  function drawFrame(s: LabSnapshot): void {
    for (const [id, , value] of READOUT) {
      const cell = cells.get(id) as HTMLElement;
      const v = value(s, state);
      cell.textContent = formatNumber(v);
      cell.dataset.value = v === null ? '' : String(v);
    }
    if (data) {
      drawBoundary(boundary, data, s);
      if (angleDensity.checked) drawAngleDensity(neurons, data, s);
      else drawNeurons(neurons, data, s, unitArrows.checked ? 'unit' : 'norm');
    }
  }

  function showTheory(): void {
    theoryBox.hidden = theory === null;
    if (!theory) return;
    theoryText.textContent = `Exact solution (seed 002): K∞/K₀ = ${formatNumber(theory.ntkRatio)}, predicted regime: ${theory.regime === 'kernel' ? 'kernel' : 'feature learning'}. Dashed: closed form; line: this run (time = steps × learning rate).`;
    const rows = theory.time.map((t, i) => ({ x: t, y: theory?.output[i] ?? 0, series: 'closed form' }));
    void showChart(theoryChart, liveLineSpec({ title: 'f at the effective point', x: 'time t', y: 'f(t)', logY: false, dashed: 'closed form' })).then((v) => {
      theoryView = v;
      return v.insert('points', rows).runAsync();
    });
  }

  function change<K extends keyof LabState>(key: K, value: LabState[K]): void {
    state = { ...state, [key]: value };
    syncUrl();
    syncInputs();
    showNotice([]);
    if (LIVE_KNOBS.includes(key)) {
      session.rates(state);
      return;
    }
    resumeAfterReset = session.running;
    session.reset(state);
  }

  runButton.addEventListener('click', () => {
    stopReplay();
    if (session.running) session.pause();
    else session.run(stepsPerFrame());
    setRunning(session.running);
  });
  speed.addEventListener('change', () => {
    if (session.running) session.run(stepsPerFrame());
  });
  timeline.addEventListener('input', () => {
    stopReplay();
    showAt(Number(timeline.value));
  });
  replayButton.addEventListener('click', () => {
    if (replaying !== null) return stopReplay();
    if (session.running) {
      session.pause();
      setRunning(false);
    }
    let index = 0;
    replayButton.textContent = 'Stop';
    replaying = setInterval(() => {
      if (index >= snapshots.length) return stopReplay();
      showAt(index++);
    }, 50);
  });
  unitArrows.addEventListener('change', () => showAt(Number(timeline.value)));
  angleDensity.addEventListener('change', () => {
    neuronsCaption.textContent = angleDensity.checked ? DENSITY_CAPTION : ARROWS_CAPTION;
    showAt(Number(timeline.value));
  });
  stepButton.addEventListener('click', () => session.step(1));
  step100Button.addEventListener('click', () => session.step(100));
  resetButton.addEventListener('click', () => {
    resumeAfterReset = false;
    setRunning(false);
    session.reset(state);
  });
  exportButton.addEventListener('click', () => {
    void session.exportSpec().then((spec) => download(`${String(spec.name)}.json`, `${JSON.stringify(spec, null, 2)}\n`));
  });
  linkButton.addEventListener('click', () => {
    void navigator.clipboard?.writeText(location.href).then(
      () => showNotice(['link copied']),
      () => showNotice([location.href]),
    );
  });

  syncInputs();
  syncUrl();
  session.reset(state);
  return () => session.close();
}

