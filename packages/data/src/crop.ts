/**
 * Crop geometry of image-folder reads, as torchvision computes it: `RandomResizedCrop` for
 * training and `Resize(shorter side) + CenterCrop` for evaluation. Pure arithmetic on image
 * sizes; the pixels are cut and resized by the decoder.
 */
import { CsqError } from '@csq/core';

/** A rectangle of the source image, in pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Options of {@link randomResizedCropBox}. */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width/height (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function assertSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `${what}: image size must be positive integers, got ${width}x${height}.`,
    );
  }
}

/**
 * The crop of torchvision's `RandomResizedCrop.get_params`: up to 10 attempts, each drawing an
 * area fraction uniformly from `scale` and a log aspect ratio uniformly from log(`ratio`);
 * the first crop that fits is placed uniformly at random. If none fits, the central crop of
 * the largest size whose aspect ratio is clamped to `ratio`. `random` gives uniforms in [0, 1):
 * two per attempt, then two for the position.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  random: () => number,
  opts: RandomResizedCropOptions = {},
): CropBox {
  assertSize(width, height, 'randomResizedCropBox');
  const [s0, s1] = opts.scale ?? [0.08, 1];
  const [r0, r1] = opts.ratio ?? [3 / 4, 4 / 3];
  if (!(s0 > 0 && s0 <= s1 && s1 <= 1) || !(r0 > 0 && r0 <= r1)) {
    throw new CsqError(
      'CSQ_DATA_BAD_CROP',
      `random-resized-crop needs 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1], ` +
        `got scale [${s0}, ${s1}] and ratio [${r0}, ${r1}]; torchvision uses [0.08, 1] and [3/4, 4/3].`,
    );
  }
  const area = width * height;
  const logR0 = Math.log(r0);
  const logR1 = Math.log(r1);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (s0 + (s1 - s0) * random());
    const aspect = Math.exp(logR0 + (logR1 - logR0) * random());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.min(height - h, Math.floor(random() * (height - h + 1)));
      const left = Math.min(width - w, Math.floor(random() * (width - w + 1)));
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < r0) {
    h = roundHalfEven(w / r0);
  } else if (inRatio > r1) {
    w = roundHalfEven(h * r1);
  }
  return {
    left: Math.floor((width - w) / 2),
    top: Math.floor((height - h) / 2),
    width: w,
    height: h,
  };
}

/** Resize-then-crop plan of an evaluation read. */
export interface CenterCropPlan {
  /** Size after resizing the shorter side to round(size * resizeRatio). */
  resizeWidth: number;
  resizeHeight: number;
  /** The size x size crop of the resized image. */
  box: CropBox;
}

/**
 * Evaluation geometry (torchvision `Resize(round(size * resizeRatio))` then
 * `CenterCrop(size)`): the shorter side becomes S = round(size * resizeRatio) (256 for size 224
 * at the default ratio 256/224), the longer one floor(S * long / short); then the centred
 * size x size square, offsets rounded as Python rounds.
 */
export function centerCropPlan(
  width: number,
  height: number,
  size: number,
  resizeRatio = 256 / 224,
): CenterCropPlan {
  assertSize(width, height, 'centerCropPlan');
  if (!Number.isInteger(size) || size < 1 || !(resizeRatio >= 1) || !Number.isFinite(resizeRatio)) {
    throw new CsqError(
      'CSQ_DATA_BAD_CROP',
      `centre crop needs a positive integer size and a resize ratio >= 1, got ${size} and ` +
        `${resizeRatio}; the ImageNet default is 224 and 256/224.`,
    );
  }
  const shortSide = Math.max(size, Math.round(size * resizeRatio));
  let resizeWidth: number;
  let resizeHeight: number;
  if (width <= height) {
    resizeWidth = shortSide;
    resizeHeight = Math.max(shortSide, Math.floor((shortSide * height) / width));
  } else {
    resizeHeight = shortSide;
    resizeWidth = Math.max(shortSide, Math.floor((shortSide * width) / height));
  }
  return {
    resizeWidth,
    resizeHeight,
    box: {
      left: roundHalfEven((resizeWidth - size) / 2),
      top: roundHalfEven((resizeHeight - size) / 2),
      width: size,
      height: size,
    },
  };
}
