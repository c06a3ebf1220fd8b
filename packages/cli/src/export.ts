/**
 * `csq export`: the exact model (spec 1, Heaviside) of a trained CSQ model as the packed
 * mixed-precision file (docs/packed-format.md) and optionally a plain tfjs model. The exporter
 * itself lives in `@csq/loader/export`; this file writes its output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { fileSystemIO } from '@csq/layers/node';
import { formatPackedSizeReport, packedSizeReport } from '@csq/loader';
import { encodeExact, toExactPlainModel } from '@csq/loader/export';
// tfjs itself (backends, kernels) as the exporter had it before it moved to @csq/loader/export
import '@tensorflow/tfjs';
import type * as tf from '@tensorflow/tfjs';

export { toExactPlainModel };

/** The packed file of a trained CSQ model's exact version (with `meta` carried in the manifest). */
export async function exportPackedModel(
  model: tf.LayersModel,
  meta: Record<string, unknown> = {},
): Promise<{
  bytes: Uint8Array;
  plain: tf.LayersModel;
}> {
  const { plain, weights } = await toExactPlainModel(model);
  return { bytes: encodeExact(model, plain, weights, { meta }), plain };
}

/** Writes DIR/model.csqp (and DIR/tfjs/ with --format tfjs); returns the size report text. */
export async function exportRun(
  model: tf.LayersModel,
  outDir: string,
  opts: { format: 'packed' | 'tfjs'; meta?: Record<string, unknown> },
): Promise<string> {
  const { bytes, plain } = await exportPackedModel(model, opts.meta);
  const file = join(outDir, 'model.csqp');
  try {
    await mkdir(outDir, { recursive: true });
    await writeFile(file, bytes);
  } catch (e) {
    plain.dispose();
    const code = (e as NodeJS.ErrnoException).code;
    throw new CsqError(
      'CSQ_WRITE_FAILED',
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `--out ${outDir} is a file, not a folder; csq export writes model.csqp into the folder --out names. Choose a folder (it is created).`
        : `cannot write ${file}: ${(e as Error).message}. Choose an --out on a writable disk.`,
    );
  }
  const lines = [
    `packed exact model written to ${file}`,
    formatPackedSizeReport(packedSizeReport(bytes)),
  ];
  if (opts.format === 'tfjs') {
    const dir = join(outDir, 'tfjs');
    await plain.save(fileSystemIO(dir));
    lines.push(`standard tfjs LayersModel (exact dequantized float32 weights) written to ${dir}`);
  }
  plain.dispose();
  return `${lines.join('\n')}\n`;
}
