/**
 * @csq/loader: csq's packed mixed-precision model format. `loadPackedModel` gives back a plain
 * tf.LayersModel in the browser and in Node; `encodePackedModel` writes the format;
 * `decodePackedModel` and `packedSizeReport` read it without tfjs. Exporting a trained CSQ model
 * is in the separate entry `@csq/loader/export` (it imports @csq/layers; this one never does).
 */

export { crc32 } from '@csq/core';
export { CsqActQuantize, type CsqActQuantizeArgs, registerCsqActQuantize } from './act-quant.js';
export {
  decodePackedModel,
  type PackedHeader,
  readPackedHeader,
  readPackedManifest,
} from './decode.js';
export {
  type EncodePackedOptions,
  encodePackedModel,
  type PackedFormatVersion,
} from './encode.js';
export {
  type DecodedPackedModel,
  type DecodedWeight,
  PACKED_EXTENSION,
  PACKED_FORMAT_NAME,
  PACKED_FORMAT_VERSION,
  PACKED_FORMAT_VERSIONS,
  PACKED_HEADER_BYTES,
  PACKED_MAGIC,
  type PackedCodesEntry,
  type PackedCodesInput,
  type PackedFloat32Entry,
  type PackedFloat32Input,
  type PackedManifest,
  type PackedModelInput,
  type PackedWeightEntry,
  type PackedWeightInput,
} from './format.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_ELEMENTS, type PackedLimits } from './limits.js';
export { type LoadPackedOptions, loadPackedModel, modelFromDecoded } from './load.js';
export {
  formatPackedSizeReport,
  type PackedSizeReport,
  type PackedTensorSize,
  packedSizeReport,
} from './size.js';
export { isNode, type PackedSource, type ReadSourceOptions, readPackedSource } from './source.js';
export { checkTopology } from './topology-check.js';
