/**
 * What each Node backend is called in tfjs, which package brings it, and how to get it: the
 * texts `selectBackend` and `doctor` print.
 */
import * as tf from '@tensorflow/tfjs';

/** The backends csq can train on in Node, in the order 'auto' tries them. */
export const NODE_BACKENDS = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
/** One of {@link NODE_BACKENDS}. */
export type NodeBackendName = (typeof NODE_BACKENDS)[number];

/** The tfjs backend name each csq backend registers. */
export const TFJS_NAME: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** The package that brings each backend. */
export const PACKAGE: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@csq/trainer-webgpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

/** How to get each backend, for messages. */
export function installHint(name: NodeBackendName): string {
  const v = tf.version.tfjs;
  switch (name) {
    case 'tfjs-node-gpu':
      return (
        `npm install @tensorflow/tfjs-node-gpu@${v} (Linux x86-64 or Windows with an NVIDIA GPU, ` +
        'driver >= 450, CUDA 11.2 and cuDNN 8.1 on the library path; its install script downloads ' +
        'libtensorflow 2.9.1 with GPU support)'
      );
    case 'webgpu':
      return (
        `npm install @csq/trainer-webgpu @tensorflow/tfjs-backend-webgpu@${v} webgpu (Dawn ` +
        'prebuilt for Linux, macOS and Windows; on Linux a GPU whose driver has Vulkan: ' +
        'libvulkan1 and the driver ICD, e.g. nvidia_icd.json)'
      );
    case 'tfjs-node':
      return (
        `npm install @tensorflow/tfjs-node@${v} (prebuilt for Linux x86-64/arm64, macOS and ` +
        'Windows; its install script downloads libtensorflow 2.9.1)'
      );
    case 'wasm':
      return `npm install @tensorflow/tfjs-backend-wasm@${v}`;
    case 'cpu':
      return `npm install @tensorflow/tfjs@${v}`;
  }
}
