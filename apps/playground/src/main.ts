/**
 * The page: settings form and URL, the training worker's controls, live charts, the summary,
 * the .csqp download and the drawing pad.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// the threaded build's pthreads load this script unchanged (see enableBrowserWasmThreads)
import wasmThreadedFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import { createCharts } from './charts.js';
import { DIGITS_ASSET } from './digits-format.js';
import { drawingPad } from './draw.js';
import type { FromWorker, ToWorker, WasmUrls } from './messages.js';
import {
  DEFAULT_SETTINGS,
  type PlaygroundSettings,
  parseSettings,
  settingsQuery,
  validateSettings,
} from './settings.js';
import { type PageSummary, summaryRows } from './summary.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const buttons = {
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  resume: $<HTMLButtonElement>('resume'),
  stop: $<HTMLButtonElement>('stop'),
};
const charts = createCharts((id) => $<HTMLCanvasElement>(id));
const absolute = (u: string) => new URL(u, location.href).href;
const wasmUrls: WasmUrls = {
  'tfjs-backend-wasm.wasm': absolute(wasmPlain),
  'tfjs-backend-wasm-simd.wasm': absolute(wasmSimd),
  'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmThreaded),
  threadedFactory: absolute(wasmThreadedFactory),
};

type PageState = 'idle' | 'running' | 'paused' | 'done' | 'stopped' | 'error';

/** What the page exposes for its tests (and for curious users in the console). */
const page = {
  state: 'idle' as PageState,
  backend: undefined as string | undefined,
  backendMessage: '',
  error: undefined as { code: string; message: string } | undefined,
  summary: undefined as PageSummary | undefined,
  csqp: undefined as Uint8Array | undefined,
  trainMs: 0,
  steps: 0,
  /** Wall time of each batch, as the worker measured it. */
  stepMs: [] as number[],
  /** Loss of each batch. */
  losses: [] as number[],
  lastDrawn: undefined as { pixels: number[]; logits: number[] } | undefined,
  chartPoints: () => ({
    loss: charts.loss.counts(),
    accuracy: charts.accuracy.counts(),
    temperature: charts.temperature.counts(),
    budget: charts.budget.counts(),
    bits: charts.bits.updates,
  }),
  predict: (pixels: ArrayLike<number>, count: number): Promise<number[][]> =>
    request(Uint8Array.from(pixels), count),
};
(window as unknown as { playground: typeof page }).playground = page;

// ---- settings and URL ---------------------------------------------------------------------------

function fillForm(s: PlaygroundSettings): void {
  for (const [k, v] of Object.entries(s)) {
    const el = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (el) el.value = String(v);
  }
}

function readForm(): PlaygroundSettings {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(DEFAULT_SETTINGS)) {
    const el = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement;
    out[k] =
      el instanceof HTMLSelectElement ? el.value : el.value === '' ? Number.NaN : Number(el.value);
  }
  return validateSettings(out as unknown as PlaygroundSettings);
}

function showError(e: { code?: string; message: string } | undefined): void {
  const box = $('error');
  box.hidden = !e;
  box.textContent = e ? `${e.code ? `${e.code}: ` : ''}${e.message}` : '';
}

// ---- the worker ---------------------------------------------------------------------------------

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, (logits: number[][]) => void>();

function request(pixels: Uint8Array, count: number): Promise<number[][]> {
  if (!worker) return Promise.reject(new Error('no model yet: train first'));
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker!.postMessage({ type: 'predict', id, pixels, count } satisfies ToWorker);
  });
}

function setState(state: PageState): void {
  page.state = state;
  document.body.dataset.state = state;
  buttons.start.disabled = state === 'running' || state === 'paused';
  buttons.pause.disabled = state !== 'running';
  buttons.resume.disabled = state !== 'paused';
  buttons.stop.disabled = state !== 'running' && state !== 'paused';
}

let batchesPerEpoch = 1;
let epochs = 1;

function onMessage(m: FromWorker): void {
  const progress = $('progress');
  switch (m.type) {
    case 'backend':
      page.backend = m.name;
      page.backendMessage = m.message;
      $('backend').textContent = `Backend: ${m.message.replace(/\.$/, '')}.`;
      break;
    case 'data':
      progress.textContent = `Data: ${m.trainCount} train / ${m.testCount} held-out digits; training on ${m.usedTrain}, evaluating on ${m.usedTest}.`;
      break;
    case 'begin':
      epochs = m.epochs;
      batchesPerEpoch = m.batchesPerEpoch;
      break;
    case 'batch':
      page.steps = m.step;
      page.stepMs.push(m.ms);
      page.losses.push(m.loss);
      charts.loss.push(0, m.step, m.loss);
      charts.accuracy.push(0, m.step, m.accuracy);
      charts.temperature.push(0, m.step, m.beta);
      progress.textContent =
        `Epoch ${m.epoch + 1}/${epochs}, batch ${m.batch + 1}/${batchesPerEpoch}: loss ` +
        `${m.loss.toFixed(4)}, train accuracy ${(100 * m.accuracy).toFixed(1)}%, beta ` +
        `${m.beta.toPrecision(3)} (${m.ms.toFixed(0)} ms/batch)`;
      break;
    case 'bits':
      charts.budget.push(0, m.step, m.ratio);
      charts.budget.push(1, m.step, m.targetRatio);
      charts.bits.set(
        m.layers,
        `Selected bits per layer at step ${m.step} (average ${m.avgBitsSlots.toFixed(2)} per layer)`,
      );
      break;
    case 'epoch':
      charts.loss.push(1, m.step, m.loss);
      charts.accuracy.push(1, m.step, m.softAccuracy);
      if (m.exactAccuracy !== null) charts.accuracy.push(2, m.step, m.exactAccuracy);
      break;
    case 'probe':
      charts.accuracy.push(3, m.step, m.soft);
      charts.accuracy.push(4, m.step, m.exact);
      break;
    case 'paused':
      setState('paused');
      progress.textContent += ' (paused)';
      break;
    case 'resumed':
      setState('running');
      break;
    case 'log':
      console.log(`[csq] ${m.message}`);
      break;
    case 'done':
      page.summary = m.summary;
      page.csqp = m.csqp;
      page.trainMs = m.trainMs;
      charts.bits.set(m.layers, 'Selected bits per layer of the exact model');
      showSummary(m.summary, m.stopped);
      setState(m.stopped ? 'stopped' : 'done');
      progress.textContent = m.stopped
        ? 'Stopped: the summary and model are those of the last finished batch.'
        : `Done in ${m.summary.wallSeconds.toFixed(1)} s.`;
      break;
    case 'prediction':
      waiting.get(m.id)?.(m.logits);
      waiting.delete(m.id);
      break;
    case 'error':
      page.error = { code: m.code, message: m.message };
      showError(page.error);
      setState('error');
      progress.textContent = 'Training failed (see the message below).';
      break;
  }
}

function start(): void {
  let settings: PlaygroundSettings;
  try {
    settings = readForm();
  } catch (e) {
    showError(e as Error);
    return;
  }
  showError(undefined);
  const query = settingsQuery(settings);
  history.replaceState(null, '', query ? `?${query}` : location.pathname);
  $<HTMLAnchorElement>('permalink').href = `?${settingsQuery(settings, { run: '1' })}`;
  worker?.terminate();
  for (const c of [charts.loss, charts.accuracy, charts.temperature, charts.budget]) {
    for (const d of c.chart.data.datasets) d.data = [];
    c.chart.update('none');
  }
  $('result').hidden = true;
  Object.assign(page, {
    error: undefined,
    summary: undefined,
    csqp: undefined,
    steps: 0,
    stepMs: [],
    losses: [],
  });
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) =>
    onMessage({ type: 'error', code: 'CSQ_PLAYGROUND_WORKER', message: e.message });
  setState('running');
  $('progress').textContent = 'Starting: choosing a backend and loading the digits...';
  worker.postMessage({
    type: 'start',
    settings,
    dataUrl: absolute(`${import.meta.env.BASE_URL}${DIGITS_ASSET}`),
    wasmBase: wasmUrls,
  } satisfies ToWorker);
}

// ---- results --------------------------------------------------------------------------------------

function showSummary(s: PageSummary, stopped: boolean): void {
  $('summary-title').textContent =
    `Summary${stopped ? ' (stopped early)' : ''}: N = ${s.bits}, target ${s.targetBits} bits, budget ${s.budget}`;
  const body = $('summary-layers').querySelector('tbody')!;
  body.replaceChildren(
    ...s.layers.map((l) => {
      const tr = document.createElement('tr');
      for (const v of [l.name, String(l.bits), String(l.maxBits ?? s.bits), String(l.params)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('summary-rows')
    .querySelector('tbody')!
    .replaceChildren(
      ...summaryRows(s).map(([k, v]) => {
        const tr = document.createElement('tr');
        const a = document.createElement('td');
        const b = document.createElement('td');
        a.textContent = k;
        b.textContent = v;
        tr.append(a, b);
        return tr;
      }),
    );
  $('result').hidden = false;
}

$('download').addEventListener('click', () => {
  if (!page.csqp) return;
  const blob = new Blob([page.csqp as Uint8Array<ArrayBuffer>], {
    type: 'application/octet-stream',
  });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `mnist-cnn-${settingsQuery(readFormOrDefaults()) || 'quickstart'}.csqp`.replace(
    /[&=]/g,
    '-',
  );
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});

function readFormOrDefaults(): PlaygroundSettings {
  try {
    return readForm();
  } catch {
    return DEFAULT_SETTINGS;
  }
}

const pad = drawingPad($<HTMLCanvasElement>('pad'), async (pixels) => {
  const out = $('prediction');
  try {
    const [logits] = await request(pixels, 1);
    const best = logits!.indexOf(Math.max(...logits!));
    const max = Math.max(...logits!);
    const exps = logits!.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    page.lastDrawn = { pixels: Array.from(pixels), logits: logits! };
    out.textContent = `The exact model reads a ${best} (${((100 * exps[best]!) / total).toFixed(1)}%).`;
    out.dataset.digit = String(best);
  } catch (e) {
    out.textContent = (e as Error).message;
  }
});
$('clear').addEventListener('click', () => pad.clear());

// ---- wiring ---------------------------------------------------------------------------------------

buttons.start.addEventListener('click', start);
buttons.pause.addEventListener('click', () =>
  worker?.postMessage({ type: 'pause' } satisfies ToWorker),
);
buttons.resume.addEventListener('click', () =>
  worker?.postMessage({ type: 'resume' } satisfies ToWorker),
);
buttons.stop.addEventListener('click', () =>
  worker?.postMessage({ type: 'stop' } satisfies ToWorker),
);
setInterval(() => {
  for (const c of Object.values(charts)) c.flush();
}, 250);

setState('idle');
const params = new URLSearchParams(location.search);
try {
  const initial = parseSettings(params);
  fillForm(initial);
  $<HTMLAnchorElement>('permalink').href = `?${settingsQuery(initial, { run: '1' })}`;
  if (params.get('run') === '1') start();
} catch (e) {
  fillForm(DEFAULT_SETTINGS);
  showError(e as Error);
  setState('error');
}
