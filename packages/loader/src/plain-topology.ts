/**
 * A CSQ model's topology rewritten into plain tfjs layers (the exporter's half of the packed
 * format): CsqConv2D -> Conv2D, CsqDense -> Dense, CsqDepthwiseConv2D -> DepthwiseConv2D,
 * CsqActQuant -> @csq/loader's forward-only CsqActQuantize.
 */
import { CsqError } from '@csq/core';

type Json = Record<string, unknown>;

const CONV_KEYS = ['strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias'];

/** CSQ classes and the plain tfjs class (and config keys) each becomes. */
const PLAIN: Record<string, { className: string; keys: string[] }> = {
  CsqConv2D: { className: 'Conv2D', keys: ['filters', 'kernel_size', ...CONV_KEYS] },
  CsqDense: { className: 'Dense', keys: ['units', 'activation', 'use_bias'] },
  // activation quantizers (spec 4) become @csq/loader's forward-only twin
  CsqActQuant: { className: 'CsqActQuantize', keys: ['act_bits'] },
  CsqDepthwiseConv2D: {
    className: 'DepthwiseConv2D',
    keys: ['kernel_size', 'depth_multiplier', ...CONV_KEYS],
  },
};
const COMMON_KEYS = ['name', 'trainable', 'dtype', 'batch_input_shape'];

/** Rewrites a topology's CSQ layers into plain tfjs layers, recursively (nested models). */
export function plainTopology(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(plainTopology);
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  const cls = obj['class_name'];
  if (
    typeof cls === 'string' &&
    Object.hasOwn(PLAIN, cls) &&
    obj['config'] &&
    typeof obj['config'] === 'object'
  ) {
    const spec = PLAIN[cls]!;
    const cfg = obj['config'] as Json;
    const config: Json = {};
    for (const k of [...COMMON_KEYS, ...spec.keys]) if (cfg[k] !== undefined) config[k] = cfg[k];
    return { ...obj, class_name: spec.className, config };
  }
  if (typeof cls === 'string' && cls.startsWith('Csq')) {
    throw new CsqError(
      'CSQ_EXPORT_UNSUPPORTED',
      `layer class ${cls} has no equivalent the packed format can hold; csq export knows CsqConv2D, ` +
        'CsqDense, CsqDepthwiseConv2D and CsqActQuant. Save the CSQ model itself instead (model.save).',
    );
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plainTopology(v)]));
}
