/**
 * @csq/layers/node: Node-only helpers (file system). The main entry stays free of Node imports.
 */
export { fileSystemIO, MODEL_JSON, WEIGHTS_BIN } from './file-system-io.js';
