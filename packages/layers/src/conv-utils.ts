import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';

/** Padding modes of CSQ conv layers. */
export type PaddingMode = 'valid' | 'same';
/** Data layouts of CSQ conv layers. */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/** A number or a pair of numbers, normalised to a pair of positive integers. */
export function pair(
  value: number | number[] | undefined,
  fallback: number,
  what: string,
): [number, number] {
  const v = value ?? fallback;
  const arr = Array.isArray(v) ? v : [v, v];
  if (arr.length !== 2 || !arr.every((x) => Number.isInteger(x) && x > 0)) {
    throw new CsqError(
      'CSQ_BAD_OPTION',
      `${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}.`,
    );
  }
  return [arr[0]!, arr[1]!];
}

/** Checks a padding option. */
export function checkPadding(padding: string | undefined): PaddingMode {
  const p = padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') {
    throw new CsqError('CSQ_BAD_OPTION', `padding must be "valid" or "same", got "${p}".`);
  }
  return p;
}

/** Checks a data format option. */
export function checkDataFormat(format: string | undefined): DataFormat {
  const f = format ?? 'channelsLast';
  if (f !== 'channelsLast' && f !== 'channelsFirst') {
    throw new CsqError(
      'CSQ_BAD_OPTION',
      `dataFormat must be "channelsLast" or "channelsFirst", got "${f}".`,
    );
  }
  return f;
}

/** Output length of a convolution along one axis (tf.layers' rule); null stays null. */
export function convOutputLength(
  input: number | null,
  kernel: number,
  padding: PaddingMode,
  stride: number,
  dilation: number,
): number | null {
  if (input == null) return null;
  const dilated = kernel + (kernel - 1) * (dilation - 1);
  const length = padding === 'same' ? input : input - dilated + 1;
  return Math.floor((length + stride - 1) / stride);
}

/** NCHW -> NHWC when the layer is channelsFirst. */
export function toNhwc(x: tf.Tensor, format: DataFormat): tf.Tensor {
  return format === 'channelsFirst' ? tf.transpose(x, [0, 2, 3, 1]) : x;
}

/** NHWC -> NCHW when the layer is channelsFirst. */
export function fromNhwc(x: tf.Tensor, format: DataFormat): tf.Tensor {
  return format === 'channelsFirst' ? tf.transpose(x, [0, 3, 1, 2]) : x;
}

/** Product of the known dimensions, or undefined if any is unknown. */
export function knownProduct(dims: (number | null | undefined)[]): number | undefined {
  let out = 1;
  for (const d of dims) {
    if (d == null) return undefined;
    out *= d;
  }
  return out;
}

/** Output height and width of a 2-D (depthwise) convolution for an input shape (null: unknown). */
export function spatialOutput(
  shape: readonly (number | null | undefined)[],
  conv: {
    dataFormat: DataFormat;
    kernelSize: readonly number[];
    padding: PaddingMode;
    strides: readonly number[];
    dilationRate: readonly number[];
  },
): [number | null, number | null] {
  const [h, w] = conv.dataFormat === 'channelsFirst' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return [
    convOutputLength(
      h ?? null,
      conv.kernelSize[0]!,
      conv.padding,
      conv.strides[0]!,
      conv.dilationRate[0]!,
    ),
    convOutputLength(
      w ?? null,
      conv.kernelSize[1]!,
      conv.padding,
      conv.strides[1]!,
      conv.dilationRate[1]!,
    ),
  ];
}
