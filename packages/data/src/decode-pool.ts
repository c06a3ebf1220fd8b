/**
 * A small worker_threads pool that decodes images with sharp off the main thread (Node).
 * Workers start lazily, hold a reference on the event loop only while they have work (a
 * forgotten `close()` never keeps a program alive), and are restarted if one dies.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CsqError } from '@csq/core';
import type { CropBox } from './crop.js';

/** One decode: either a train crop (crop + flip) or an eval resize-then-crop. */
export interface DecodeTask {
  file: string;
  size: number;
  channels: number;
  flip: boolean;
  /** The file has an alpha channel (dropped before resampling). */
  alpha?: boolean;
  crop?: CropBox;
  resize?: { width: number; height: number };
  after?: CropBox;
}

interface Pending {
  task: DecodeTask & { id: number };
  resolve: (pixels: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
}

/** Tasks each worker holds at once (one decoding, one queued, so it never waits on us). */
const PER_WORKER = 2;

/** Default pool size: one worker per core but one, at least one. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The worker script, beside `src/` and `dist/` alike. */
function workerUrl(): URL {
  return new URL('../worker/decode-worker.cjs', import.meta.url);
}

/** A pool of decode workers. */
export class DecodePool {
  readonly size: number;
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private users = 0;

  constructor(size = defaultWorkerCount()) {
    if (!Number.isInteger(size) || size < 1) {
      throw new CsqError(
        'CSQ_DATA_BAD_WORKERS',
        `the decode worker count must be a positive integer, got ${String(size)}; the default ` +
          `is the number of cores minus one (${defaultWorkerCount()} here).`,
      );
    }
    this.size = size;
  }

  /** Registers one more user of the pool; {@link release} closes it after the last one. */
  acquire(): this {
    this.users += 1;
    return this;
  }

  /** Drops a user; terminates the workers when none is left. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) await this.close();
  }

  /** Decodes one image; resolves with size*size*channels HWC pixels. */
  decode(task: DecodeTask): Promise<Uint8Array> {
    if (this.closed) {
      return Promise.reject(
        new CsqError('CSQ_DATA_CLOSED', 'this image source was closed; open a new one to read.'),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { ...task, id: this.nextId++ }, resolve, reject });
      this.pump();
    });
  }

  /** Terminates every worker; pending decodes fail. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new CsqError('CSQ_DATA_CLOSED', 'the image source was closed while reading.');
    for (const p of this.queue) p.reject(err);
    this.queue = [];
    const slots = this.slots;
    this.slots = [];
    for (const slot of slots) for (const p of slot.inFlight.values()) p.reject(err);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl());
    const slot: Slot = { worker, inFlight: new Map() };
    worker.on(
      'message',
      (msg: { id: number; ok: boolean; pixels?: Uint8Array; message?: string }) => {
        const pending = slot.inFlight.get(msg.id);
        if (!pending) return;
        slot.inFlight.delete(msg.id);
        if (msg.ok && msg.pixels) pending.resolve(msg.pixels);
        else {
          pending.reject(
            new CsqError(
              'CSQ_DATA_CORRUPT_IMAGE',
              `cannot decode image ${pending.task.file}: ${msg.message ?? 'unknown error'}; ` +
                `remove or replace the file.`,
            ),
          );
        }
        this.pump();
      },
    );
    const fail = (why: string) => {
      const idx = this.slots.indexOf(slot);
      if (idx >= 0) this.slots.splice(idx, 1);
      for (const p of slot.inFlight.values()) {
        p.reject(
          new CsqError('CSQ_DATA_WORKER', `image decode worker failed on ${p.task.file}: ${why}`),
        );
      }
      slot.inFlight.clear();
      this.pump();
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => {
      if (!this.closed) fail(`worker exited with code ${code}`);
    });
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) {
        if (s.inFlight.size < PER_WORKER && (!slot || s.inFlight.size < slot.inFlight.size)) {
          slot = s;
        }
      }
      if (!slot || (slot.inFlight.size > 0 && this.slots.length < this.size)) {
        if (this.slots.length < this.size) slot = this.spawn();
      }
      if (!slot) break;
      const pending = this.queue.shift()!;
      slot.inFlight.set(pending.task.id, pending);
      slot.worker.postMessage(pending.task);
    }
    // hold the event loop only while work is outstanding
    for (const s of this.slots) {
      if (s.inFlight.size > 0) s.worker.ref();
      else s.worker.unref();
    }
  }
}
