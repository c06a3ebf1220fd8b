/**
 * The run directory trainNode writes, the same one `csq train` writes (file names and formats
 * from @csq/run-format): config.json at the start, then the trainer's metrics.jsonl and
 * checkpoints, and model/ and summary.json at the end.
 */
import { basename } from 'node:path';
import type { BudgetReport } from '@csq/budget';
import { CsqError } from '@csq/core';
import { packedModelByteLength } from '@csq/loader/export';
import {
  buildSummary,
  checkpointName,
  configDifference,
  type ModelKind,
  RUN_FILES,
  type RunConfig,
  type RunSummary,
  validateRunConfig,
} from '@csq/run-format';
import type { RunStore, TrainResult } from '@csq/trainer';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The budget's standing when no search ended in this run (no ticket phase): nothing trimmed. */
function untrimmed(r: BudgetReport) {
  return {
    enforce: r.enforce,
    targetBits: r.targetBits,
    reachedBefore: r.reachedBits,
    reachedAfter: r.reachedBits,
    met: r.reachedBits <= r.targetBits + 1e-9,
    trimmed: [],
    raised: [],
  };
}

/** Keys of config.json that say which network on which data: a resume must not change them. */
const IDENTITY_KEYS = ['model', 'data', 'bits', 'actBits', 'imageSize', 'widthMultiplier'] as const;

/**
 * Checks that `store` may take this run and writes config.json. Without `resume`, a directory
 * that already holds this model's checkpoint, or another run's config.json, is refused (nothing
 * is changed). With `resume`, the saved config.json must describe the same network and data
 * (the trainer checks the training settings against its checkpoint).
 */
export async function startRunDir(
  store: RunStore,
  run: RunConfig,
  opts: { resume: boolean; kind: ModelKind },
): Promise<{ backendWas?: string }> {
  const savedText = await store.readText(RUN_FILES.config);
  const configPath = `${store.location}/${RUN_FILES.config}`;
  const saved = savedText === undefined ? undefined : parseSavedConfig(savedText, configPath);
  if (!opts.resume) {
    const hasCheckpoint = (await store.readBytes(checkpointName(opts.kind))) !== undefined;
    const other = saved && configDifference(saved, run, ['backend']);
    if (hasCheckpoint || other) {
      throw new CsqError(
        'CSQ_RUN_EXISTS',
        `${store.location} already holds a run; pass --resume to continue it, or choose another --out (nothing was changed).`,
      );
    }
  } else if (saved) {
    const identity = (c: RunConfig) => Object.fromEntries(IDENTITY_KEYS.map((k) => [k, c[k]]));
    const diff = configDifference(identity(saved), identity(run));
    if (diff) {
      throw new CsqError(
        'CSQ_RESUME_CONFIG_MISMATCH',
        `cannot resume ${store.location}: it was started with ${diff}. Resume with the same settings ` +
          '(csq train --out DIR --resume alone reuses them), or use another --out.',
      );
    }
  }
  await store.writeText(RUN_FILES.config, `${JSON.stringify(run, null, 2)}\n`);
  // the backend may change on resume (a warning, not an error): only a named one is compared
  const was = opts.resume ? saved?.backend : undefined;
  return was && was !== 'auto' ? { backendWas: was } : {};
}

/**
 * Removes what a start that failed before its first checkpoint wrote (config.json,
 * metrics.jsonl, summary.json), and the directory when nothing else is left in it.
 */
export async function removeFailedStart(dir: string): Promise<void> {
  const { rm, rmdir } = await import('node:fs/promises');
  for (const f of [RUN_FILES.config, RUN_FILES.metrics, RUN_FILES.summary])
    await rm(`${dir}/${f}`, { force: true }).catch(() => {});
  // an empty checkpoint/ folder (nothing was saved) goes too
  await rmdir(`${dir}/checkpoint`).catch(() => {});
}

function parseSavedConfig(text: string, path: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CsqError('CSQ_BAD_RUN', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return validateRunConfig(raw, path);
}

/**
 * Parameters of the network in float: every weight of the layers csq does not quantize, and
 * for each CSQ layer its kernel (as the budget counts it) and its bias.
 */
export function floatParamCount(model: tfl.LayersModel, report: BudgetReport): number {
  const kernels = new Map(report.layers.map((l) => [l.name, l.params]));
  const size = (w: tfl.LayerVariable) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  let n = 0;
  const visit = (layer: tfl.layers.Layer) => {
    const inner = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
    if (Array.isArray(inner)) return inner.forEach(visit);
    const kernel = kernels.get(layer.name);
    for (const w of layer.weights) {
      if (kernel === undefined) n += size(w);
      else if (w.originalName.endsWith('/bias')) n += size(w);
    }
    n += kernel ?? 0;
  };
  model.layers.forEach(visit);
  return n;
}

/** summary.json of a finished CSQ run, written to the store; returns it. */
export async function writeSummary(
  store: RunStore,
  args: {
    run: RunConfig;
    backend: string;
    model: tfl.LayersModel;
    result: TrainResult & { report: BudgetReport };
    floatAccuracy: number | null;
    wallSeconds: number;
  },
): Promise<RunSummary> {
  const { run, result } = args;
  const last = result.history[result.history.length - 1];
  const summary = buildSummary({
    recipe: run.recipe ?? basename(store.location),
    backend: args.backend,
    epochs: result.history.length,
    floatAccuracy: args.floatAccuracy,
    softAccuracy: result.softAccuracy,
    exactAccuracy: result.exactAccuracy,
    report: result.report,
    floatParams: floatParamCount(args.model, result.report),
    wallSeconds: args.wallSeconds,
    bits: run.bits ?? Math.max(0, ...result.report.layers.map((l) => l.maxBits)),
    ...(run.actBits !== undefined ? { actBits: run.actBits } : {}),
    ...(last?.beta !== undefined ? { finalBeta: last.beta } : {}),
    // the length of the file `csq export` writes, by the exporter's own encoder
    ...(await packedLength(args.model)),
    trim: result.trim ?? untrimmed(result.report),
    enforce: run.enforceBudget ?? 'trim',
  });
  await store.writeText(RUN_FILES.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/**
 * `{ packedBytes }` from the exporter's own encoder, or nothing where the weights cannot be read
 * synchronously (WebGPU in Node: the exporter reads with dataSync); `csq export` of the run, on
 * its own backend, still writes the file.
 */
async function packedLength(model: tfl.LayersModel): Promise<{ packedBytes?: number }> {
  try {
    return { packedBytes: await packedModelByteLength(model) };
  } catch (e) {
    if ((e as { code?: string }).code === 'CSQ_WEBGPU_SYNC_READ') return {};
    throw e;
  }
}
