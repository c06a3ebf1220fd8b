/**
 * A tfjs io handler that saves and loads a layers model as `model.json` + `weights.bin` in a
 * directory, with Node's fs only (no tfjs-node). `model.save(fileSystemIO(dir))` and
 * `tf.loadLayersModel(fileSystemIO(dir))`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';

/** File names the handler writes. */
export const MODEL_JSON = 'model.json';
/** Weights file name. */
export const WEIGHTS_BIN = 'weights.bin';

function stripScheme(dir: string): string {
  return dir.startsWith('file://') ? dir.slice('file://'.length) : dir;
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function readOrThrow(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CsqError(
      code === 'ENOENT' ? 'CSQ_NOT_FOUND' : 'CSQ_READ_FAILED',
      `cannot read ${what} "${path}" (${code ?? (err as Error).message}); pass the directory a ` +
        `model was saved to with fileSystemIO (it holds ${MODEL_JSON} and ${WEIGHTS_BIN}).`,
    );
  }
}

/** Saves/loads a tfjs model to/from a directory in Node (model.json + weights.bin). */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  const root = stripScheme(dir);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new CsqError(
          'CSQ_UNSUPPORTED',
          'fileSystemIO saves layers models (JSON topology); binary graph topologies are not supported.',
        );
      }
      await mkdir(root, { recursive: true });
      const weights = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_core}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
      };
      await writeAtomic(join(root, WEIGHTS_BIN), new Uint8Array(weights));
      await writeAtomic(join(root, MODEL_JSON), JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const text = (await readOrThrow(join(root, MODEL_JSON), 'model file')).toString('utf8');
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse(text) as tf.io.ModelJSON;
      } catch (err) {
        throw new CsqError(
          'CSQ_CORRUPT_MODEL',
          `"${join(root, MODEL_JSON)}" is not valid JSON (${(err as Error).message}); save the model again.`,
        );
      }
      if (!modelJSON || typeof modelJSON !== 'object' || modelJSON.modelTopology == null) {
        throw new CsqError(
          'CSQ_CORRUPT_MODEL',
          `"${join(root, MODEL_JSON)}" has no modelTopology; it is not a tfjs model file.`,
        );
      }
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const rel = normalize(p);
            if (isAbsolute(rel) || relative(root, join(root, rel)).startsWith('..')) {
              throw new CsqError(
                'CSQ_CORRUPT_MODEL',
                `weights path "${p}" in ${MODEL_JSON} points outside the model directory.`,
              );
            }
            const buf = await readOrThrow(join(root, rel), 'weights file');
            buffers.push(
              buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
            );
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}
