/**
 * A run checkpoint in one file, so it can be written atomically (temp file, then rename):
 * "CSQCKPT1" magic, a uint32 (little endian) JSON header length, the JSON header, then the
 * float32 tensors back to back, each listed in the header with its byte offset, and a CRC32 of
 * everything before the final 4 bytes.
 */
import { CsqError, crc32 } from '@csq/core/base';
import type { ModelKind } from './files.js';
import type { MetricsLine } from './metrics.js';
import type { TrainConfig } from './train-config.js';

const MAGIC = 'CSQCKPT1';

/** Running sums of the epoch in progress (a checkpoint taken mid-epoch carries them). */
export interface EpochAccum {
  loss: number;
  ce: number;
  penalty: number;
  correct: number;
  seen: number;
  seconds: number;
}

/** Empty running sums, for the start of an epoch. */
export function zeroAccum(): EpochAccum {
  return { loss: 0, ce: 0, penalty: 0, correct: 0, seen: 0, seconds: 0 };
}

/**
 * The JSON header of a training checkpoint (version 1). Its tensors are `w<i>` (every weight of
 * the model, in a stable order), `m<i>` (momentum of the i-th trainable weight, where one exists)
 * and `r<i>` (the rewind point of the rounds schedule, when `hasRewind`).
 */
export interface CheckpointHeader {
  format: 'csq-checkpoint';
  version: 1;
  model: ModelKind;
  config: TrainConfig;
  /** 0-based epoch to continue from, and the batch within it. */
  epoch: number;
  batch: number;
  accum: EpochAccum;
  /** Every metrics line of this model so far. */
  history: MetricsLine[];
  /** Per weight: its kind and shape (e.g. "kernel[3,3,1,16]"), to match the model on resume. */
  weightNames: string[];
  hasRewind: boolean;
  /** Budget enforcement reports so far (`@csq/budget` BudgetTrimReport), absent before 0.2. */
  trims?: object[];
}

/** One tensor in the checkpoint. */
export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** A decoded checkpoint: the header object and the tensors' values by name. */
export interface CheckpointData<H> {
  header: H;
  tensors: Map<string, { shape: number[]; values: Float32Array }>;
}

/** Serialises a header and named float32 tensors into one checksummed byte array. */
export function encodeCheckpoint<H extends object>(
  header: H,
  tensors: readonly { name: string; shape: number[]; values: Float32Array }[],
): Uint8Array {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    entries.push({ name: t.name, shape: t.shape, offset, length: t.values.length });
    offset += t.values.length * 4;
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, tensors: entries }));
  const pre = MAGIC.length + 4;
  // align the tensor data to 4 bytes
  const pad = (4 - ((pre + json.length) % 4)) % 4;
  const dataStart = pre + json.length + pad;
  const out = new Uint8Array(dataStart + offset + 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(MAGIC.length, json.length + pad, true);
  out.set(json, pre);
  out.fill(0x20, pre + json.length, dataStart);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    out.set(
      new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength),
      dataStart + entries[i]!.offset,
    );
  }
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Parses and verifies a checkpoint; `source` names it in error messages. */
export function decodeCheckpoint<H>(bytes: Uint8Array, source: string): CheckpointData<H> {
  const fail = (what: string): never => {
    throw new CsqError(
      'CSQ_BAD_CHECKPOINT',
      `checkpoint ${source} is unusable: ${what}. Delete it to start the run afresh, or resume from another run directory.`,
    );
  };
  if (bytes.length < MAGIC.length + 8) fail(`only ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC)
    fail('not a csq checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(bytes.length - 4, true);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored)
    fail('checksum mismatch (the file is truncated or corrupt)');
  const headerLength = view.getUint32(MAGIC.length, true);
  const pre = MAGIC.length + 4;
  if (pre + headerLength > bytes.length - 4) fail('header length beyond the end of the file');
  let parsed: H & { tensors: TensorEntry[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(pre, pre + headerLength)));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    fail('header is not a JSON object');
  const entries: unknown = parsed.tensors ?? [];
  if (!Array.isArray(entries)) fail('its tensor list is not an array');
  const dataStart = pre + headerLength;
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const t of entries as TensorEntry[]) {
    checkEntry(t, fail);
    if (tensors.has(t.name)) fail(`tensor ${t.name} is listed twice`);
    const start = dataStart + t.offset;
    if (start + t.length * 4 > bytes.length - 4)
      fail(`tensor ${t.name} runs past the end of the file`);
    const values = new Float32Array(t.length);
    new Uint8Array(values.buffer).set(bytes.subarray(start, start + t.length * 4));
    tensors.set(t.name, { shape: t.shape, values });
  }
  const { tensors: _entries, ...header } = parsed;
  return { header: header as H, tensors };
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Checks one tensor entry of a checkpoint header before anything is allocated for it. */
function checkEntry(t: TensorEntry, fail: (what: string) => never): void {
  if (typeof t !== 'object' || t === null) fail('a tensor entry is not an object');
  if (typeof t.name !== 'string' || t.name === '') fail('a tensor entry has no name');
  if (!Array.isArray(t.shape) || !t.shape.every(isCount))
    fail(`tensor ${t.name} has a bad shape (${JSON.stringify(t.shape)})`);
  if (!isCount(t.offset) || t.offset % 4 !== 0 || !isCount(t.length))
    fail(`tensor ${t.name} has a bad offset or length`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.length)
    fail(`tensor ${t.name} holds ${t.length} values but its shape [${t.shape}] needs ${size}`);
}
