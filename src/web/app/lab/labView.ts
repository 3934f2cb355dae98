/**
 * The live lab: knobs (from the state table), train / pause / step / reset, the loss curves, the
 * decision boundary, the neurons in the plane and the alignment numbers. Every knob is in the URL.
 * Side by side, a second run (B) differs from the first (A) in one knob, on the same data and seed;
 * the page then steps both by the same number of steps per frame, so their frames are at equal steps.
 */
import { COMPARABLE_KNOBS, KNOBS, LIVE_KNOBS, comparedState, labStateParams, readKnob, readLabState, type Knob, type LabComparison, type LabState } from '../../lab/labState.js';
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';
import { liveLineSpec, showChart, type ChartView } from '../charts.js';
import { clear, download, formatNumber, h } from '../dom.js';
import { LabSession } from './labSession.js';
import type { LossPoint, TheoryCurve } from './messages.js';
import { RunPanel } from './runPanel.js';

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

/** A value of the knob different from `current`, to start a comparison from. */
function otherValue(knob: Knob, current: LabState[keyof LabState]): LabState[keyof LabState] {
  if (knob.kind === 'flag') return !current;
  if (knob.kind === 'choice') return (knob.values as readonly LabState[keyof LabState][]).find((v) => v !== current) ?? current;
  const v = current as number;
  const next = knob.log ? (v / 100 >= knob.min ? v / 100 : v * 100) : v === knob.min ? knob.max : knob.min;
  return knob.integer ? Math.round(next) : Number(next.toPrecision(3));
}

/** Frames of the side-by-side mode at full speed aim at this many milliseconds of training. */
const LOCKSTEP_FRAME_MS = 150;

export function labView(root: HTMLElement, search: URLSearchParams): () => void {
  const read = readLabState(search);
  let state: LabState = read.state;
  let comparison: LabComparison | null = read.comparison;
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
  const compareKnob = h(
    'select',
    { id: 'lab-compare-knob', title: 'a second run, B, that differs in this knob only: same data, same seed' },
    h('option', { value: '' }, 'off'),
    ...COMPARABLE_KNOBS.map((k) => h('option', { value: k.key }, k.label)),
  );
  const compareValue = h('input', { type: 'text', id: 'lab-compare-value', size: 8, 'aria-label': 'B\'s value of the compared knob' });
  const playback = h(
    'div',
    { class: 'buttons' },
    h('label', {}, 'speed ', speed),
    h('label', {}, 'timeline ', timeline),
    timelineLabel,
    replayButton,
    h('label', { title: 'every arrow full length: directions only, while the norms are still tiny' }, unitArrows, ' unit arrows'),
    h('label', { title: 'the neurons as a polar density of their directions, weighted by |a|·‖w‖, against random directions (for wide nets)' }, angleDensity, ' angle density'),
    h('label', { title: 'two runs side by side: B is this setting with one knob changed, on the same data and seed, stepped in lockstep' }, 'side by side: B differs in ', compareKnob, ' = ', compareValue),
  );

  const panelA = new RunPanel('lab');
  const panelB = new RunPanel('lab-b');
  const runs = h('div', { class: 'runs' }, panelA.element);
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
        runs,
        lossChart,
        theoryBox,
      ),
    ),
  );

  let data: LabData | null = null;
  let dataB: LabData | null = null;
  let lossView: ChartView | null = null;
  let theoryView: ChartView | null = null;
  let theory: TheoryCurve | null = null;
  let lastStep = -1;
  let lastStepB = -1;
  let resumeAfterReset = false;
  /** Snapshots kept for the timeline: at most TIMELINE_SIZE, thinned to every other one when full. */
  const TIMELINE_SIZE = 400;
  let snapshots: LabSnapshot[] = [];
  /** B's snapshots; the timeline shows the one at A's step (the latest before it). */
  let snapshotsB: LabSnapshot[] = [];
  let replaying: ReturnType<typeof setInterval> | null = null;
  const atLiveEnd = () => Number(timeline.value) >= snapshots.length - 2;
  const neuronView = () => ({ unitArrows: unitArrows.checked, angleDensity: angleDensity.checked });
  /** The list with room for one more: every other snapshot dropped when full. */
  const withRoom = (list: LabSnapshot[]) => (list.length >= TIMELINE_SIZE ? list.filter((_, i) => i % 2 === 1) : list);
  const keep = (s: LabSnapshot) => {
    const live = atLiveEnd();
    snapshots = withRoom(snapshots);
    snapshots.push(s);
    timeline.max = String(snapshots.length - 1);
    if (live) showAt(snapshots.length - 1);
    return live;
  };
  const keepB = (s: LabSnapshot) => {
    snapshotsB = withRoom(snapshotsB);
    snapshotsB.push(s);
    if (atLiveEnd()) showAt(Number(timeline.value));
  };
  function showAt(index: number): void {
    const s = snapshots[index];
    if (!s) return;
    timeline.value = String(index);
    timelineLabel.textContent = `step ${s.step}`;
    timelineLabel.dataset.value = String(s.step);
    panelA.draw(s, state, data, neuronView());
    if (!comparison) return;
    const b = snapshotsB.filter((x) => x.step <= s.step).pop();
    if (b) panelB.draw(b, comparedState(state, comparison), dataB, neuronView());
  }
  function stopReplay(): void {
    if (replaying !== null) clearInterval(replaying);
    replaying = null;
    replayButton.textContent = 'Replay';
  }
  const lossReady = showChart(lossChart, liveLineSpec({ title: 'loss', x: 'step', y: 'loss', logY: true, logX: true, dashBy: 'split' })).then((v) => (lossView = v));

  const syncUrl = () => history.replaceState(null, '', `/lab?${labStateParams(state, comparison).toString()}`);
  const syncInputs = () => {
    for (const knob of KNOBS) inputs.get(knob.key)?.set(state[knob.key]);
    // Knobs the current setting ignores are greyed, not hidden, so a link keeps its layout.
    const ignored: [keyof LabState, boolean][] = [
      ['teachers', state.toy !== 'teacher'],
      ['loss', state.toy === 'linear1d'],
      ['batchSize', state.optimizer === 'gd' || (state.optimizer === 'adam' && state.batchSize >= state.n)],
    ];
    for (const [key, off] of ignored) inputs.get(key)?.row.classList.toggle('inactive', off);
    compareKnob.value = comparison ? comparison.key : '';
    compareValue.value = comparison ? String(comparison.value) : '';
    compareValue.disabled = comparison === null;
  };
  const setRunning = (running: boolean) => {
    runButton.textContent = running ? 'Pause' : 'Train';
    runButton.dataset.running = String(running);
  };

  /** Runs still to report ready after a reset; training resumes when none is left. */
  let awaitingReady = 0;
  const readyOne = () => {
    awaitingReady = Math.max(0, awaitingReady - 1);
    if (awaitingReady > 0 || !resumeAfterReset) return;
    if (comparison) void runLockstep();
    else {
      session.run(stepsPerFrame());
      setRunning(true);
    }
  };
  const clearLosses = (series: (name: string) => boolean) => void lossReady.then(() => lossView?.remove('points', (d: { series: string }) => series(d.series)).runAsync());

  const session = new LabSession({
    ready: (m) => {
      data = m.data;
      theory = m.theory;
      lastStep = -1;
      stopReplay();
      snapshots = [];
      timeline.value = '0';
      clearLosses((name) => !name.startsWith('B'));
      render(m.snapshot);
      showTheory();
      readyOne();
    },
    snapshot: (m) => {
      render(m.snapshot, m.losses);
      if (!comparison) setRunning(m.running);
    },
    error: (message) => {
      stopLockstep();
      setRunning(false);
      showNotice([message]);
    },
  });

  let sessionB: LabSession | null = null;
  function openSessionB(): LabSession {
    return new LabSession({
      ready: (m) => {
        dataB = m.data;
        lastStepB = -1;
        snapshotsB = [];
        clearLosses((name) => name.startsWith('B'));
        renderB(m.snapshot);
        readyOne();
      },
      snapshot: (m) => renderB(m.snapshot, m.losses),
      error: (message) => {
        stopLockstep();
        setRunning(false);
        showNotice([`B: ${message}`]);
      },
    });
  }

  /** Loss rows of the points after `after`, up to and including the snapshot's step; side by side the colour is the run, the dash the split. */
  function lossRows(s: LabSnapshot, history: readonly LossPoint[], after: number, run: 'A' | 'B' | null) {
    const points = [...history.filter((p) => p.step > after && p.step < s.step), s];
    return points
      .flatMap((p) => [
        { x: p.step, y: p.trainLoss, series: run ?? 'train', split: 'train' },
        { x: p.step, y: p.testLoss, series: run ?? 'test', split: 'test' },
      ])
      .filter((r) => typeof r.y === 'number' && r.y > 0);
  }

  /** A new snapshot from the worker: kept on the timeline, drawn when the timeline is at its live end. */
  function render(s: LabSnapshot, history: readonly LossPoint[] = []): void {
    keep(s);
    if (s.step > lastStep) {
      const rows = lossRows(s, history, lastStep, comparison ? 'A' : null);
      lastStep = s.step;
      void lossReady.then(() => lossView?.insert('points', rows).runAsync());
      const output = s.measures['point.output'];
      if (theory && typeof output === 'number') void theoryView?.insert('points', [{ x: s.time, y: output, series: 'simulation' }]).runAsync();
    }
  }

  function renderB(s: LabSnapshot, history: readonly LossPoint[] = []): void {
    keepB(s);
    if (s.step <= lastStepB) return;
    const rows = lossRows(s, history, lastStepB, 'B');
    lastStepB = s.step;
    void lossReady.then(() => lossView?.insert('points', rows).runAsync());
  }

  function showTheory(): void {
    theoryBox.hidden = theory === null;
    if (!theory) return;
    theoryText.textContent = `Exact solution (seed 002): K∞/K₀ = ${formatNumber(theory.ntkRatio)}, predicted regime: ${theory.regime === 'kernel' ? 'kernel' : 'feature learning'}. Dashed: closed form; line: this run (time = steps × learning rate)${comparison ? ', run A' : ''}.`;
    const rows = theory.time.map((t, i) => ({ x: t, y: theory?.output[i] ?? 0, series: 'closed form' }));
    void showChart(theoryChart, liveLineSpec({ title: 'f at the effective point', x: 'time t', y: 'f(t)', logY: false, dashed: 'closed form' })).then((v) => {
      theoryView = v;
      return v.insert('points', rows).runAsync();
    });
  }

  /** The side-by-side driver: both runs take the same steps each frame; null when not running. */
  let lockstep: { running: boolean } | null = null;
  const isRunning = () => (comparison ? lockstep !== null : session.running);

  async function runLockstep(): Promise<void> {
    const b = sessionB;
    if (lockstep || !b) return;
    const token = { running: true };
    lockstep = token;
    setRunning(true);
    let steps = stepsPerFrame() ?? 1;
    while (token.running) {
      const started = performance.now();
      const ok = await Promise.all([session.stepAndWait(steps), b.stepAndWait(steps)]);
      if (!ok.every(Boolean) || !token.running) break;
      const took = performance.now() - started;
      const fixed = stepsPerFrame();
      if (fixed !== undefined) {
        steps = fixed;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 33 - took)));
      } else steps = Math.max(1, Math.min(5000, Math.round(steps * Math.min(4, Math.max(0.25, LOCKSTEP_FRAME_MS / Math.max(took, 1))))));
    }
    if (lockstep === token) lockstep = null;
    setRunning(false);
  }

  function stopLockstep(): void {
    if (lockstep) lockstep.running = false;
    lockstep = null;
  }

  function pause(): void {
    if (comparison) stopLockstep();
    else session.pause();
    setRunning(false);
  }

  function resetAll(): void {
    awaitingReady = comparison ? 2 : 1;
    session.reset(state);
    if (comparison) sessionB?.reset(comparedState(state, comparison));
  }

  /** Turns the second run on, changes it, or turns it off; both runs start again from step 0. */
  function setComparison(next: LabComparison | null): void {
    resumeAfterReset = isRunning();
    stopLockstep();
    if (!comparison && !next) return;
    session.pause();
    comparison = next;
    if (next && !sessionB) {
      sessionB = openSessionB();
      runs.append(panelB.element);
    }
    if (!next && sessionB) {
      sessionB.close();
      sessionB = null;
      panelB.element.remove();
      clearLosses((name) => name.startsWith('B'));
    }
    panelA.setTitle(next ? 'A: this setting' : null);
    panelB.setTitle(next ? `B: ${KNOBS.find((k) => k.key === next.key)?.label ?? next.key} = ${String(next.value)}` : null);
    runs.classList.toggle('side-by-side', next !== null);
    syncUrl();
    syncInputs();
    resetAll();
  }

  function change<K extends keyof LabState>(key: K, value: LabState[K]): void {
    state = { ...state, [key]: value };
    syncUrl();
    syncInputs();
    showNotice([]);
    if (LIVE_KNOBS.includes(key)) {
      session.rates(state);
      if (comparison && sessionB) sessionB.rates(comparedState(state, comparison));
      return;
    }
    resumeAfterReset = isRunning();
    stopLockstep();
    resetAll();
  }

  runButton.addEventListener('click', () => {
    stopReplay();
    if (isRunning()) return pause();
    if (comparison) return void runLockstep();
    session.run(stepsPerFrame());
    setRunning(session.running);
  });
  speed.addEventListener('change', () => {
    if (!comparison && session.running) session.run(stepsPerFrame());
  });
  timeline.addEventListener('input', () => {
    stopReplay();
    showAt(Number(timeline.value));
  });
  replayButton.addEventListener('click', () => {
    if (replaying !== null) return stopReplay();
    if (isRunning()) pause();
    let index = 0;
    replayButton.textContent = 'Stop';
    replaying = setInterval(() => {
      if (index >= snapshots.length) return stopReplay();
      showAt(index++);
    }, 50);
  });
  unitArrows.addEventListener('change', () => showAt(Number(timeline.value)));
  angleDensity.addEventListener('change', () => showAt(Number(timeline.value)));
  const stepBoth = (steps: number) => {
    if (isRunning()) pause();
    session.step(steps);
    if (comparison) sessionB?.step(steps);
  };
  stepButton.addEventListener('click', () => stepBoth(1));
  step100Button.addEventListener('click', () => stepBoth(100));
  resetButton.addEventListener('click', () => {
    resumeAfterReset = false;
    pause();
    resetAll();
  });
  compareKnob.addEventListener('change', () => {
    const knob = KNOBS.find((k) => k.key === compareKnob.value);
    showNotice([]);
    setComparison(knob ? { key: knob.key, value: otherValue(knob, state[knob.key]) } : null);
  });
  compareValue.addEventListener('change', () => {
    const knob = KNOBS.find((k) => k.key === compareKnob.value);
    if (!knob) return;
    const { value, problem } = readKnob(knob, compareValue.value.trim());
    if (problem !== undefined) {
      showNotice([`B: ${problem}`]);
      compareValue.value = comparison ? String(comparison.value) : '';
      return;
    }
    showNotice([]);
    setComparison({ key: knob.key, value: value as LabState[keyof LabState] });
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
  if (comparison) {
    const initial = comparison;
    comparison = null;
    setComparison(initial);
  } else resetAll();
  return () => {
    stopLockstep();
    session.close();
    sessionB?.close();
  };
}
