// @ts-check
/**
 * Image decoding worker of @csq/data's image-folder source (a worker_threads worker, plain
 * CommonJS so that it runs the same from the sources and from the published package).
 * It receives decode tasks whose geometry the main thread has already computed (see
 * src/crop.ts), decodes with sharp, and answers with raw uint8 HWC pixels.
 *
 * Task: { id, file, size, channels, flip, alpha, crop?: {left, top, width, height},
 *         resize?: {width, height}, after?: {left, top, width, height} }
 *   alpha: the file has an alpha channel, dropped before resampling (as PIL's convert('RGB')
 *   does in torchvision; resampling with alpha would premultiply it).
 *   train reads: extract `crop`, resize it to size x size, mirror if `flip`;
 *   eval reads: resize to `resize`, then extract `after` (size x size).
 * Answer: { id, ok: true, pixels: Uint8Array } or { id, ok: false, message }.
 */
'use strict';

const { parentPort } = require('node:worker_threads');

if (!parentPort) throw new Error('decode-worker.cjs must run in a worker thread');
const port = parentPort;

/** @type {any} */
let sharp;
try {
  sharp = require('sharp');
  // one libvips thread per worker: the pool provides the parallelism
  sharp.concurrency(1);
  sharp.cache(false);
} catch (err) {
  const message =
    'cannot load the image library sharp, an optional dependency of @csq/data (npm install ' +
    `sharp): ${err instanceof Error ? err.message : String(err)}`;
  port.on('message', (/** @type {{ id: number }} */ task) => {
    port.postMessage({ id: task.id, ok: false, message });
  });
  sharp = undefined;
}

/**
 * @param {{ id: number, file: string, size: number, channels: number, flip: boolean, alpha?: boolean,
 *   crop?: { left: number, top: number, width: number, height: number },
 *   resize?: { width: number, height: number },
 *   after?: { left: number, top: number, width: number, height: number } }} task
 */
async function decode(task) {
  let image = sharp(task.file, { failOn: 'error' });
  if (task.alpha) {
    const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    image = sharp(data, {
      raw: { width: info.width, height: info.height, channels: info.channels },
    });
  }
  if (task.crop) {
    image = image
      .extract(task.crop)
      .resize(task.size, task.size, { fit: 'fill', kernel: 'linear' });
    if (task.flip) image = image.flop();
  } else if (task.resize && task.after) {
    image = image
      .resize(task.resize.width, task.resize.height, { fit: 'fill', kernel: 'linear' })
      .extract(task.after);
  } else {
    throw new Error('decode task without crop or resize');
  }
  image = image
    .removeAlpha()
    .toColourspace(task.channels === 1 ? 'b-w' : 'srgb')
    .raw();
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  if (info.width !== task.size || info.height !== task.size || info.channels !== task.channels) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels}, expected ` +
        `${task.size}x${task.size}x${task.channels}`,
    );
  }
  return new Uint8Array(data);
}

if (sharp) {
  port.on('message', (task) => {
    decode(task).then(
      (pixels) => port.postMessage({ id: task.id, ok: true, pixels }, [pixels.buffer]),
      (err) =>
        port.postMessage({
          id: task.id,
          ok: false,
          message: err instanceof Error ? err.message : String(err),
        }),
    );
  });
}
