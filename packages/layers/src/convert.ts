/**
 * quantizeModel: turns a trained (or fresh) float tf.LayersModel into a CSQ model with the same
 * topology, replacing Conv2D, Dense and DepthwiseConv2D by CSQ layers initialised from the
 * float weights (spec 1), everything else copied as it is.
 */
import { assertBits, CsqError, resolveBounds } from '@csq/core';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CsqConv2D } from './csq-conv2d.js';
import { CsqDense } from './csq-dense.js';
import { CsqDepthwiseConv2D } from './csq-depthwise-conv2d.js';
import type { CsqInit } from './csq-kernel.js';
import type { CsqLayer } from './csq-layer.js';

/**
 * A per-layer override: its bits N, or N, whether the budget counts it, and the bounds the
 * budget keeps its selected bits in (`minBits` default 1, `maxBits` default N).
 */
export type LayerOverride =
  | number
  | { bits?: number; counted?: boolean; minBits?: number; maxBits?: number };

/** Default mask logit of converted layers: moderate, so the budget can prune and grow bits. */
export const CONVERT_MASK_LOGIT = 1;

/**
 * Default logit magnitude of a converted layer's bit planes (digits +-0.5): small, so the
 * digits keep training while beta is low and the weights adapt to the bits the budget removes.
 */
export const CONVERT_INIT_LOGIT = 0.5;

/** A set of layer names, or a test on the float layer. */
export type LayerSelector = readonly string[] | ((layer: tfl.layers.Layer) => boolean);

/** Options of quantizeModel. */
export interface QuantizeOptions {
  /** N of every converted layer (default 8). */
  bits?: number;
  /** Per-layer bits (or `{ bits, counted }`) by layer name, e.g. `{ conv1: 8, dense: 8 }`. */
  overrides?: Record<string, LayerOverride>;
  /** Only these layers are converted (default: every Conv2D, Dense, DepthwiseConv2D). */
  include?: LayerSelector;
  /** These layers stay float. */
  exclude?: LayerSelector;
  /**
   * 'convert' (default): logits +-initLogit, so the converted model computes what the float
   * model computed (exactly the N-bit quantisation in exact mode). 'scratch': the authors'
   * 0/1 digits and m = s0 (for training from these weights as a fresh start).
   */
  init?: CsqInit;
  /**
   * Logit magnitude a of the bit planes in the 'convert' initialisation (default 0.5): digits
   * become +-a. The exact model is the N-bit quantisation for any a > 0; the gradient on a digit
   * is proportional to beta sigma'(beta a), so small digits keep training while beta is low
   * (the weights adapt to the bits the budget removes, and the search settles) and harden as
   * beta grows (at a = 6 they are frozen from the first epoch: sigma'(6) = 0.0025). The soft
   * model at beta = 1 scales each digit by sigma(a) - sigma(-a) (0.24 at 0.5).
   */
  initLogit?: number;
  /**
   * Mask logit of every selected position in the 'convert' initialisation (default 1). The
   * exact model is the N-bit quantisation for any positive value; the budget's gradient on a
   * mask is proportional to beta sigma'(beta m), which vanishes at large m (about 0.0025 at
   * m = 6, beta = 1, against 0.2 at m = 1), so a large value freezes the search. The soft model
   * at beta = 1 scales each selected digit by sigma(maskLogit) (0.73 at 1) and approaches the
   * exact model as beta grows.
   */
  maskLogit?: number;
  /** Floor of every converted layer's selected bits for the budget (default 1). */
  minBits?: number;
  /**
   * Ceiling of every converted layer's selected bits (default N). The conversion starts with the
   * `maxBits` most significant positions selected.
   */
  maxBits?: number;
  /** Quantize the biases to N bits (spec 5; default true). */
  quantizeBias?: boolean;
}

const CONVERTIBLE: Record<string, string> = {
  Conv2D: CsqConv2D.className,
  Dense: CsqDense.className,
  DepthwiseConv2D: CsqDepthwiseConv2D.className,
};

type LayerEntry = { className: string; config: Record<string, unknown>; name?: string };

function matches(sel: LayerSelector | undefined, layer: tfl.layers.Layer): boolean | undefined {
  if (sel === undefined) return undefined;
  return typeof sel === 'function' ? sel(layer) : sel.includes(layer.name);
}

/** Every layer of a model, nested models included, by name (later duplicates ignored). */
function allLayers(model: tfl.LayersModel): Map<string, tfl.layers.Layer> {
  const out = new Map<string, tfl.layers.Layer>();
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      if (!out.has(l.name)) out.set(l.name, l);
      const inner = (l as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return out;
}

/**
 * Converts a tf.LayersModel (sequential or functional, nested models and residual adds included)
 * into a CSQ model: Conv2D / Dense / DepthwiseConv2D become CsqConv2D / CsqDense /
 * CsqDepthwiseConv2D initialised from the float weights (spec 1, `init` 'convert' by default);
 * every other layer keeps its weights. The float model is left untouched. Regularizers and
 * constraints of converted kernels are dropped (they do not apply to bit planes).
 */
export function quantizeModel(
  model: tfl.LayersModel,
  options: QuantizeOptions = {},
): tfl.LayersModel {
  const bits = options.bits ?? 8;
  assertBits(bits);
  const init = options.init ?? 'convert';
  const byName = allLayers(model);
  for (const name of [
    ...Object.keys(options.overrides ?? {}),
    ...(Array.isArray(options.include) ? options.include : []),
    ...(Array.isArray(options.exclude) ? options.exclude : []),
  ]) {
    if (!byName.has(name)) {
      throw new CsqError(
        'CSQ_UNKNOWN_LAYER',
        `quantizeModel options name layer "${name}", which the model does not have; its layers ` +
          `are: ${[...byName.keys()].join(', ')}.`,
      );
    }
  }
  const converted = new Set<string>();
  const rewrite = (entries: LayerEntry[]) => {
    for (const entry of entries) {
      const layerName = (entry.config['name'] as string | undefined) ?? entry.name ?? '';
      const inner = entry.config['layers'];
      if (Array.isArray(inner)) {
        rewrite(inner as LayerEntry[]);
        continue;
      }
      const target = CONVERTIBLE[entry.className];
      const layer = byName.get(layerName);
      if (!target || !layer) continue;
      if (matches(options.include, layer) === false || matches(options.exclude, layer) === true)
        continue;
      const o = options.overrides?.[layerName];
      const ov = typeof o === 'number' ? { bits: o } : (o ?? {});
      const layerBits = ov.bits ?? bits;
      assertBits(layerBits, `bits of layer "${layerName}"`);
      const clamp = (v: number | undefined) =>
        v === undefined ? undefined : Math.min(v, layerBits);
      const minBits = ov.minBits ?? clamp(options.minBits);
      const maxBits = ov.maxBits ?? clamp(options.maxBits);
      resolveBounds({
        name: layerName,
        maxBits: layerBits,
        bounds: {
          ...(minBits !== undefined ? { minBits } : {}),
          ...(maxBits !== undefined ? { maxBits } : {}),
        },
      });
      entry.className = target;
      Object.assign(entry.config, {
        bits: layerBits,
        counted: ov.counted ?? true,
        init,
        initLogit: options.initLogit ?? CONVERT_INIT_LOGIT,
        maskLogit: options.maskLogit ?? CONVERT_MASK_LOGIT,
        ...(minBits !== undefined ? { minBits } : {}),
        ...(maxBits !== undefined ? { maxBits } : {}),
        quantizeBias: options.quantizeBias ?? true,
      });
      converted.add(layerName);
    }
  };
  const config = JSON.parse(JSON.stringify(model.getConfig())) as {
    layers: LayerEntry[];
  } & tf.serialization.ConfigDict;
  rewrite(config.layers);
  if (converted.size === 0) {
    throw new CsqError(
      'CSQ_NOTHING_TO_QUANTIZE',
      'quantizeModel found no Conv2D, Dense or DepthwiseConv2D layer to convert (after include/' +
        'exclude); check the model and the options.',
    );
  }
  const cls =
    model.constructor as unknown as tf.serialization.SerializableConstructor<tfl.LayersModel> & {
      fromConfig: (
        cls: unknown,
        config: tf.serialization.ConfigDict,
        customObjects?: tf.serialization.ConfigDict,
        fastWeightInit?: boolean,
      ) => tfl.LayersModel;
    };
  // fastWeightInit: every weight is set below, so skip the initializers.
  const out = cls.fromConfig(cls, config, {}, true);
  copyWeights(model.layers, out.layers, converted, init);
  return out;
}

function copyWeights(
  from: tfl.layers.Layer[],
  to: tfl.layers.Layer[],
  converted: Set<string>,
  init: CsqInit,
): void {
  const source = new Map(from.map((l) => [l.name, l]));
  for (const layer of to) {
    const old = source.get(layer.name);
    if (!old) continue;
    const innerNew = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
    const innerOld = (old as unknown as { layers?: tfl.layers.Layer[] }).layers;
    if (Array.isArray(innerNew) && Array.isArray(innerOld)) {
      copyWeights(innerOld, innerNew, converted, init);
      continue;
    }
    const weights = old.getWeights();
    if (converted.has(layer.name)) {
      (layer as CsqLayer).setFloatWeights(weights[0]!, weights[1], init);
    } else if (weights.length > 0) {
      layer.setWeights(weights);
    }
  }
}
