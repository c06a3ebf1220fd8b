/**
 * What the page and its training worker say to each other (structured-clone messages).
 */
import type { RunSummary } from '@csq/trainer';
import type { PlaygroundSettings } from './settings.js';

/** The page to the worker. */
export type ToWorker =
  | { type: 'start'; settings: PlaygroundSettings; dataUrl: string; wasmBase: WasmUrls }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Logits of the exact model for `count` 28x28 digits (uint8 pixels, 0 = background). */
  | { type: 'predict'; id: number; pixels: Uint8Array; count: number };

/** URLs of tfjs-backend-wasm's binaries, as the bundler emitted them. */
export interface WasmUrls {
  'tfjs-backend-wasm.wasm': string;
  'tfjs-backend-wasm-simd.wasm': string;
  'tfjs-backend-wasm-threaded-simd.wasm': string;
  /** tfjs-backend-wasm's unbundled threaded factory script, for the pthread workers. */
  threadedFactory: string;
}

/** One layer's selected bit positions (spec 2) at some step. */
export interface LayerBitsView {
  name: string;
  maxBits: number;
  positions: number[];
}

/** The worker to the page. */
export type FromWorker =
  | {
      type: 'backend';
      name: 'webgpu' | 'wasm' | 'cpu';
      message: string;
      tried: { name: string; ok: boolean; reason: string }[];
    }
  | { type: 'data'; trainCount: number; testCount: number; usedTrain: number; usedTest: number }
  | { type: 'begin'; epochs: number; batchesPerEpoch: number }
  | {
      type: 'batch';
      step: number;
      epoch: number;
      batch: number;
      loss: number;
      accuracy: number;
      beta: number;
      ms: number;
    }
  | {
      type: 'bits';
      step: number;
      ratio: number;
      targetRatio: number;
      avgBitsSlots: number;
      layers: LayerBitsView[];
    }
  | {
      type: 'epoch';
      step: number;
      epoch: number;
      loss: number;
      trainAccuracy: number;
      softAccuracy: number;
      exactAccuracy: number | null;
      beta: number;
      ratio: number;
      targetRatio: number;
      seconds: number;
    }
  /** Held-out accuracy of the soft and the exact model on the first `digits` digits. */
  | { type: 'probe'; step: number; digits: number; soft: number; exact: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'log'; message: string }
  | {
      type: 'done';
      stopped: boolean;
      summary: RunSummary & { weightCompression: number; finalBeta: number };
      layers: LayerBitsView[];
      csqp: Uint8Array;
      trainMs: number;
    }
  | { type: 'prediction'; id: number; logits: number[][] }
  | { type: 'error'; code: string; message: string };
