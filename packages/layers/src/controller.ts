/**
 * One model-wide handle on every CSQ layer: temperature, ticket phase, exact mode, masks.
 */
import { assertFinite, CsqError } from '@csq/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type CsqPhase,
  type CsqQuantLayer,
  type CsqState,
  DEFAULT_CSQ_STATE,
  isCsqLayer,
} from './types.js';

type LayerLike = { layers?: unknown[] };

/** Every CsqQuantLayer of a model, nested models included, in model order (each once). */
export function findCsqLayers(model: tfl.LayersModel | tfl.layers.Layer): CsqQuantLayer[] {
  const out: CsqQuantLayer[] = [];
  const seen = new Set<unknown>();
  const visit = (layer: unknown): void => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (isCsqLayer(layer)) out.push(layer);
    const children = (layer as LayerLike).layers;
    if (Array.isArray(children)) for (const child of children) visit(child);
  };
  visit(model);
  return out;
}

function liveState(layer: CsqQuantLayer): CsqState | undefined {
  const s = (layer as { csqState?: CsqState }).csqState;
  return s && typeof s.beta === 'number' ? s : undefined;
}

/**
 * Drives beta, the ticket phase and exact mode of every CSQ layer of a model (spec 1, 2), so a
 * training loop never touches layers one by one. Several controllers of one model agree: the
 * state lives in the layers, and the getters read it back from them.
 */
export class CsqController {
  /** The model this controller drives. */
  readonly model: tfl.LayersModel;
  readonly layers: CsqQuantLayer[];
  private fallback: CsqState;

  constructor(model: tfl.LayersModel) {
    this.model = model;
    this.layers = findCsqLayers(model);
    const first = this.layers.map(liveState).find((s) => s !== undefined);
    this.fallback = { ...(first ?? DEFAULT_CSQ_STATE) };
  }

  /** The current state (read from the layers when they expose it). */
  get state(): CsqState {
    for (const l of this.layers) {
      const s = liveState(l);
      if (s) return { ...s };
    }
    return { ...this.fallback };
  }

  private set(patch: Partial<CsqState>): void {
    const next = { ...this.state, ...patch };
    assertFinite(next.beta, 'beta', { positive: true });
    this.fallback = next;
    for (const l of this.layers) l.setCsqState({ ...next });
  }

  /** Temperature of every sigmoid (spec 1). */
  get beta(): number {
    return this.state.beta;
  }
  setBeta(beta: number): void {
    this.set({ beta });
  }

  /** Ticket phase (spec 2): hard H(m) masks; the masks are frozen (not trainable, no gradient). */
  get ticket(): boolean {
    return this.state.ticket;
  }
  setTicket(on: boolean): void {
    this.set({ ticket: on });
  }

  /** Exact mode: forward with the Heaviside weights (evaluation, export). */
  get exact(): boolean {
    return this.state.exact;
  }
  setExact(on: boolean): void {
    this.set({ exact: on });
  }

  /** The mask logit variables of every layer, in layer order. */
  maskVariables(): tfl.LayerVariable[] {
    return this.layers.map((l) => l.maskVariable);
  }

  /**
   * Spec 2 round reset: every mask m <- min(beta m, s0) with the round's final `beta`, then the
   * temperature restarts at 1.
   */
  resetMasks(beta: number, s0 = 0): void {
    assertFinite(beta, 'beta', { positive: true });
    for (const l of this.layers) {
      const k = (l as { csqKernel?: { resetMask(beta: number, s0: number): void } }).csqKernel;
      if (!k) {
        throw new CsqError(
          'CSQ_NO_RESET',
          `layer "${l.name}" does not hold a CsqKernel, so its mask cannot be reset; extend CsqLayer ` +
            'or hold a CsqKernel in a `csqKernel` property.',
        );
      }
      k.resetMask(beta, s0);
    }
    this.setBeta(1);
  }

  /** Selected bits per layer name (spec 2); without a phase each layer uses its current rule. */
  layerBits(phase?: CsqPhase): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.layers) out[l.name] = l.selectedBits(phase);
    return out;
  }
}
