/**
 * Size accounting of a packed model next to the formats a web developer would otherwise ship.
 */
import { readPackedManifest } from './decode.js';
import { codesRegionBytes, PACKED_HEADER_BYTES, shapeSize } from './format.js';

/** Size of one tensor in a packed file. */
export interface PackedTensorSize {
  name: string;
  encoding: 'codes' | 'float32';
  /** Number of values. */
  params: number;
  /** Bytes of the tensor's region in the payload. */
  bytes: number;
  /** For codes: N, the selected bit count b, the number of levels and the index width. */
  bits?: number;
  selectedBits?: number;
  levelCount?: number;
  indexWidth?: number;
  /** For codes: bytes of the codebook (the rest of `bytes` is the packed indices). */
  codebookBytes?: number;
}

/** Sizes of a packed model (all in bytes unless named otherwise). */
export interface PackedSizeReport {
  /** The whole file. */
  fileBytes: number;
  /** The fixed header. */
  headerBytes: number;
  /** The JSON manifest (topology, weight entries, meta). */
  manifestBytes: number;
  /** The payload: every tensor, packed (= codesBytes + float32TensorBytes). */
  packedWeightBytes: number;
  /** Payload bytes of the quantized (`codes`) tensors, codebooks included. */
  codesBytes: number;
  /** Of which codebooks. */
  codebookBytes: number;
  /** Payload bytes of the `float32` tensors. */
  float32TensorBytes: number;
  /** Number of quantized weights and of float32 values. */
  quantizedParams: number;
  floatParams: number;
  /** sum over codes tensors of ceil(indexWidth * params / 8): the indices alone. */
  indexBoundBytes: number;
  /** sum over codes tensors of b * params / 8, b = selected positions (spec 3's model size). */
  selectedBitsBytes: number;
  /** The same weights as float32 (what tfjs model.save writes), 4 bytes per value. */
  float32ModelBytes: number;
  /** tfjs converter's uint8 quantization: 1 byte per value (its per-tensor min/scale not counted). */
  uint8ModelBytes: number;
  tensors: PackedTensorSize[];
}

/**
 * Sizes of a packed model: header, manifest and packed weights, the lower bounds they are
 * measured against, and the float32 and tfjs-uint8 sizes of the same model for comparison.
 * Validates the file like `decodePackedModel` (but does not dequantize).
 */
export function packedSizeReport(input: Uint8Array | ArrayBuffer): PackedSizeReport {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const { header, manifest } = readPackedManifest(bytes);
  const r: PackedSizeReport = {
    fileBytes: bytes.length,
    headerBytes: PACKED_HEADER_BYTES,
    manifestBytes: header.manifestLength,
    packedWeightBytes: header.payloadLength,
    codesBytes: 0,
    codebookBytes: 0,
    float32TensorBytes: 0,
    quantizedParams: 0,
    floatParams: 0,
    indexBoundBytes: 0,
    selectedBitsBytes: 0,
    float32ModelBytes: 0,
    uint8ModelBytes: 0,
    tensors: [],
  };
  for (const e of manifest.weights) {
    const params = shapeSize(e.shape);
    r.float32ModelBytes += 4 * params;
    r.uint8ModelBytes += params;
    if (e.encoding === 'codes') {
      const sizes = codesRegionBytes(e.levelCount, e.bits, params, e.indexWidth);
      r.codesBytes += e.byteLength;
      r.codebookBytes += sizes.codebook;
      r.quantizedParams += params;
      r.indexBoundBytes += Math.ceil((e.indexWidth * params) / 8);
      r.selectedBitsBytes += (e.positions.length * params) / 8;
      r.tensors.push({
        name: e.name,
        encoding: 'codes',
        params,
        bytes: e.byteLength,
        bits: e.bits,
        selectedBits: e.positions.length,
        levelCount: e.levelCount,
        indexWidth: e.indexWidth,
        codebookBytes: sizes.codebook,
      });
    } else {
      r.float32TensorBytes += e.byteLength;
      r.floatParams += params;
      r.tensors.push({ name: e.name, encoding: 'float32', params, bytes: e.byteLength });
    }
  }
  return r;
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

/** A few human-readable lines of a size report (what `csq export` prints). */
export function formatPackedSizeReport(r: PackedSizeReport): string {
  const ratio = (x: number) => (r.fileBytes > 0 ? (x / r.fileBytes).toFixed(1) : '-');
  return [
    `packed file      ${kib(r.fileBytes)} (header ${r.headerBytes} B, manifest ${kib(r.manifestBytes)}, weights ${kib(r.packedWeightBytes)})`,
    `  quantized      ${r.quantizedParams} weights in ${kib(r.codesBytes)} (codebooks ${kib(r.codebookBytes)}; indices alone ${kib(r.indexBoundBytes)}; selected bits x params / 8 = ${kib(Math.ceil(r.selectedBitsBytes))})`,
    `  float32        ${r.floatParams} values in ${kib(r.float32TensorBytes)}`,
    `float32 model    ${kib(r.float32ModelBytes)} (${ratio(r.float32ModelBytes)}x the packed file)`,
    `tfjs uint8       ${kib(r.uint8ModelBytes)} (${ratio(r.uint8ModelBytes)}x the packed file)`,
  ].join('\n');
}
