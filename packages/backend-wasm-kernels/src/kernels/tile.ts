/**
 * `Tile` for the wasm backend: float32 tiles become one broadcasting Add (see tile.ts).
 */
import type { WasmKernelSpec } from '../kernel-spec.js';
import { broadcastTile } from '../tile.js';

/** Registration of `Tile` (wraps wasm's own kernel). */
export const tileSpec: WasmKernelSpec = {
  kernelName: 'Tile',
  reason: 'faster',
  make: (original) => original && broadcastTile(original),
};
