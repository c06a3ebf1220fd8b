/**
 * csq's own check of a packed model's topology, before tfjs-layers sees it: tfjs's
 * `fromConfig` loops forever on a functional graph that names a missing layer, has a cycle, or
 * refers to a call (node) that never happens. Here every reference is resolved, the graph of
 * layer calls must be acyclic, dtypes must be known and input shapes sane. Needs no tfjs.
 */
import { CsqError } from '@csq/core';
import type { PackedLimits } from './limits.js';

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

/** Largest single dimension of an input shape. */
const MAX_INPUT_DIM = 2 ** 24;
/** Largest depth of nested models. */
const MAX_DEPTH = 16;
const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);
const DTYPES = new Set(['float32', 'int32', 'bool']);
/** Layers that take exactly one input tensor per call (tfjs builds them with more, then fails). */
const SINGLE_INPUT = new Set(
  (
    'Conv1D Conv2D Conv2DTranspose Conv3D DepthwiseConv2D SeparableConv2D Dense BatchNormalization ' +
    'LayerNormalization ReLU LeakyReLU ELU PReLU ThresholdedReLU Softmax Activation MaxPooling1D ' +
    'MaxPooling2D AveragePooling1D AveragePooling2D GlobalAveragePooling1D GlobalAveragePooling2D ' +
    'GlobalMaxPooling1D GlobalMaxPooling2D Flatten Reshape Permute RepeatVector Dropout ' +
    'SpatialDropout1D GaussianNoise ZeroPadding2D Cropping2D UpSampling2D Embedding CsqActQuantize'
  ).split(' '),
);

function topologyError(where: string, message: string): CsqError {
  return new CsqError(
    'CSQ_PACKED_TOPOLOGY',
    `packed model topology is invalid at ${where}: ${message} The writer of this file is broken ` +
      'or the file was edited; export it again with `csq export`.',
  );
}

function checkShape(value: unknown, where: string, key: string, maxElements: number): void {
  if (value === undefined || value === null) return;
  const batch = key !== 'input_shape';
  if (!Array.isArray(value) || value.length < (batch ? 1 : 0) || value.length > 8) {
    throw topologyError(where, `${key} ${JSON.stringify(value)} is not a list of 1 to 8 sizes.`);
  }
  let elements = 1;
  value.forEach((d, i) => {
    if (d === null) return;
    if (!Number.isInteger(d) || d < 1 || d > MAX_INPUT_DIM) {
      throw topologyError(
        where,
        `${key}[${i}] = ${JSON.stringify(d)}; sizes are null or integers in 1..${MAX_INPUT_DIM}.`,
      );
    }
    if (!(batch && i === 0)) elements *= d;
  });
  if (elements > maxElements) {
    throw topologyError(
      where,
      `${key} ${JSON.stringify(value)} makes one input example ${elements} values, more than ` +
        `maxElements (${maxElements}).`,
    );
  }
}

const finite = (x: unknown, min = -Infinity) =>
  typeof x === 'number' && Number.isFinite(Math.fround(x)) && x >= min;

/**
 * Config values of common layers that tfjs-layers takes without a check and that make a model
 * predict NaN or throw at its first predict (found by the fuzz suite).
 */
function checkKnownConfig(cls: string, c: Json, where: string): void {
  const need = (key: string, ok: boolean, what: string) => {
    if (!ok) throw topologyError(where, `${cls} ${key} ${JSON.stringify(c[key])} is not ${what}.`);
  };
  const optional = (key: string, min: number) =>
    need(key, c[key] === undefined || c[key] === null || finite(c[key], min), `a number >= ${min}`);
  if (cls === 'BatchNormalization') {
    need(
      'epsilon',
      c['epsilon'] === undefined || (finite(c['epsilon'], 0) && (c['epsilon'] as number) > 0),
      'a positive number',
    );
    optional('momentum', 0);
    need('axis', c['axis'] === undefined || Number.isInteger(c['axis']), 'an integer axis');
  } else if (cls === 'ReLU') {
    optional('max_value', 0);
  } else if (cls === 'LeakyReLU' || cls === 'ELU') {
    optional('alpha', -Infinity);
  } else if (cls === 'Dropout' || cls === 'SpatialDropout1D') {
    need(
      'rate',
      c['rate'] === undefined || (finite(c['rate'], 0) && (c['rate'] as number) < 1),
      'in [0, 1)',
    );
  }
  const flags = cls === 'BatchNormalization' ? ['center', 'scale'] : ['use_bias'];
  for (const key of flags) {
    if (key in c) need(key, typeof c[key] === 'boolean', 'true or false');
  }
  const posInt = (x: unknown) =>
    Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 65_536;
  for (const key of ['kernel_size', 'strides', 'dilation_rate', 'pool_size']) {
    const v = c[key];
    if (v === undefined || v === null) continue;
    const ok = posInt(v) || (Array.isArray(v) && v.length >= 1 && v.length <= 3 && v.every(posInt));
    need(key, ok, 'a size in 1..65536 or a list of 1 to 3 of them');
  }
  for (const key of ['filters', 'units', 'depth_multiplier']) {
    if (c[key] !== undefined)
      need(key, Number.isInteger(c[key]) && (c[key] as number) >= 1, 'a positive integer');
  }
  if ('padding' in c && typeof c['padding'] !== 'object') {
    need(
      'padding',
      ['valid', 'same', 'causal'].includes(c['padding'] as string),
      '"valid" or "same"',
    );
  }
}

function checkLayerConfig(
  layer: Json,
  where: string,
  limits: Required<PackedLimits>,
  depth: number,
) {
  const cls = layer['class_name'];
  if (typeof cls !== 'string' || cls === '') throw topologyError(where, 'class_name is missing.');
  const config = layer['config'];
  if (!isObject(config) && !(cls === 'Sequential' && Array.isArray(config))) {
    throw topologyError(where, `config of ${cls} is not an object.`);
  }
  if (MODEL_CLASSES.has(cls)) {
    checkModel(layer, where, limits, depth + 1);
    return;
  }
  const c = config as Json;
  const dtype = c['dtype'];
  if (dtype !== undefined && dtype !== null) {
    const ok = cls === 'InputLayer' ? DTYPES.has(dtype as string) : dtype === 'float32';
    if (!ok) {
      throw topologyError(
        where,
        `dtype ${JSON.stringify(dtype)} is not one packed models use ("float32"` +
          `${cls === 'InputLayer' ? ', "int32" or "bool" for inputs' : ''}).`,
      );
    }
  }
  for (const key of ['batch_input_shape', 'batch_shape', 'input_shape']) {
    checkShape(c[key], where, key, limits.maxElements);
  }
  checkKnownConfig(cls, c, where);
}

/** Layers with exactly one output tensor per call (references must use output index 0). */
const ONE_OUTPUT = new Set([
  ...SINGLE_INPUT,
  ...'InputLayer Add Subtract Multiply Average Maximum Minimum Concatenate Dot'.split(' '),
]);

/** A reference [layerName, nodeIndex, tensorIndex, kwargs?] into the graph. */
function checkRef(
  ref: unknown,
  where: string,
  nodeCounts: Map<string, number>,
  classes: Map<string, unknown>,
): [string, number] {
  if (!Array.isArray(ref) || ref.length < 3 || ref.length > 4) {
    throw topologyError(where, `${JSON.stringify(ref)} is not [layer, node, tensor(, kwargs)].`);
  }
  const [name, node, tensor] = ref as [unknown, unknown, unknown];
  if (typeof name !== 'string' || !nodeCounts.has(name)) {
    throw topologyError(
      where,
      `it refers to layer ${JSON.stringify(name)}, which is not in the model.`,
    );
  }
  const count = nodeCounts.get(name)!;
  if (!Number.isInteger(node) || (node as number) < 0 || (node as number) >= count) {
    throw topologyError(
      where,
      `it refers to call ${JSON.stringify(node)} of layer "${name}", which has ${count} call(s).`,
    );
  }
  const outputs = ONE_OUTPUT.has(classes.get(name) as string) ? 0 : 1024;
  if (!Number.isInteger(tensor) || (tensor as number) < 0 || (tensor as number) > outputs) {
    throw topologyError(where, `output index ${JSON.stringify(tensor)} of "${name}" is invalid.`);
  }
  if (ref.length === 4 && ref[3] !== null && !isObject(ref[3])) {
    throw topologyError(where, `the call arguments of "${name}" are not an object.`);
  }
  return [name, node as number];
}

function checkFunctional(
  config: Json,
  where: string,
  limits: Required<PackedLimits>,
  depth: number,
) {
  const layers = config['layers'];
  if (!Array.isArray(layers)) throw topologyError(where, '"layers" is not a list.');
  const nodeCounts = new Map<string, number>();
  const classes = new Map<string, unknown>();
  layers.forEach((l, i) => {
    const at = `${where}.layers[${i}]`;
    if (!isObject(l)) throw topologyError(at, 'the layer is not an object.');
    const name = l['name'];
    if (typeof name !== 'string' || name === '') throw topologyError(at, 'the layer has no name.');
    if (nodeCounts.has(name)) throw topologyError(at, `two layers are named "${name}".`);
    // tfjs keys its queue of calls by config.name and its layers by name: they must agree
    const cfg = l['config'];
    if (isObject(cfg) && cfg['name'] !== name) {
      throw topologyError(
        at,
        `layer "${name}" has config.name ${JSON.stringify(cfg['name'])}; the two must be equal.`,
      );
    }
    const nodes = l['inbound_nodes'];
    if (!Array.isArray(nodes)) throw topologyError(at, `"${name}" has no inbound_nodes list.`);
    if (l['class_name'] === 'InputLayer' && nodes.length > 0) {
      throw topologyError(at, `input layer "${name}" has inbound nodes.`);
    }
    nodeCounts.set(name, l['class_name'] === 'InputLayer' ? 1 : nodes.length);
    classes.set(name, l['class_name']);
    checkLayerConfig(l, `${at} ("${name}")`, limits, depth);
  });
  // the graph of calls: (layer, k) needs its inputs' calls and (layer, k - 1); Kahn's algorithm
  const key = (name: string, k: number) => `${name}\u0000${k}`;
  const deps = new Map<string, string[]>();
  for (const l of layers as Json[]) {
    const name = l['name'] as string;
    (l['inbound_nodes'] as unknown[]).forEach((node, k) => {
      const at = `${where} layer "${name}" call ${k}`;
      if (!Array.isArray(node) || node.length === 0) {
        throw topologyError(at, 'a call is not a non-empty list of inputs.');
      }
      if (node.length > 1 && SINGLE_INPUT.has(l['class_name'] as string)) {
        throw topologyError(
          at,
          `${l['class_name']} takes one input, the call gives ${node.length}.`,
        );
      }
      const d = node.map((ref) => key(...checkRef(ref, at, nodeCounts, classes)));
      if (k > 0) d.push(key(name, k - 1));
      deps.set(key(name, k), d);
    });
  }
  const state = new Map<string, 1 | 2>(); // 1 visiting, 2 done
  for (const start of deps.keys()) {
    // iterative depth-first search (a deep graph must not overflow the stack)
    const stack: [string, number][] = [[start, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      if (next === 0) {
        if (state.get(node) === 2) {
          stack.pop();
          continue;
        }
        state.set(node, 1);
      }
      const d = deps.get(node) ?? [];
      if (next < d.length) {
        top[1]++;
        const child = d[next]!;
        if (state.get(child) === 1) {
          throw topologyError(
            where,
            `the layer calls form a cycle through "${child.split('\u0000')[0]}".`,
          );
        }
        if (state.get(child) !== 2) stack.push([child, 0]);
      } else {
        state.set(node, 2);
        stack.pop();
      }
    }
  }
  for (const key2 of ['input_layers', 'output_layers']) {
    const refs = config[key2];
    if (!Array.isArray(refs) || refs.length === 0) {
      throw topologyError(where, `"${key2}" is not a non-empty list.`);
    }
    const seen = new Set<string>();
    for (const r of refs) {
      const [name, node] = checkRef(r, `${where}.${key2}`, nodeCounts, classes);
      const id = JSON.stringify(r);
      if (seen.has(id))
        throw topologyError(`${where}.${key2}`, `"${name}" call ${node} is listed twice.`);
      seen.add(id);
      if (key2 === 'input_layers' && classes.get(name) !== 'InputLayer') {
        throw topologyError(`${where}.${key2}`, `"${name}" is not an InputLayer.`);
      }
    }
  }
}

function checkModel(model: Json, where: string, limits: Required<PackedLimits>, depth: number) {
  if (depth > MAX_DEPTH)
    throw topologyError(where, `models are nested more than ${MAX_DEPTH} deep.`);
  const cls = model['class_name'];
  const config = model['config'];
  if (cls === 'Sequential') {
    const layers = Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined;
    if (!Array.isArray(layers)) throw topologyError(where, 'the Sequential has no layers list.');
    const names = new Set<unknown>();
    layers.forEach((l, i) => {
      const at = `${where}.layers[${i}]`;
      if (!isObject(l)) throw topologyError(at, 'the layer is not an object.');
      const name = isObject(l['config']) ? l['config']['name'] : undefined;
      if (name !== undefined && names.has(name)) {
        throw topologyError(at, `two layers are named ${JSON.stringify(name)}.`);
      }
      names.add(name);
      checkLayerConfig(l, at, limits, depth);
    });
    return;
  }
  if (cls !== 'Model' && cls !== 'Functional') {
    throw topologyError(
      where,
      `class_name ${JSON.stringify(cls)} is not a model (Sequential or Model).`,
    );
  }
  if (!isObject(config)) throw topologyError(where, 'config is not an object.');
  checkFunctional(config, where, limits, depth);
}

/**
 * Checks a tfjs-layers model topology (what `model.toJSON(null, false)` returns) so that
 * tfjs-layers can build it in bounded time: every layer call refers to layers and calls that
 * exist, the calls form no cycle, dtypes are known and input shapes bounded by `maxElements`.
 * Throws CSQ_PACKED_TOPOLOGY naming the layer.
 */
export function checkTopology(topology: Json, limits: Required<PackedLimits>): void {
  checkModel(topology, 'topology', limits, 0);
}
