/**
 * The drawing pad: white strokes on black, turned into a 28x28 MNIST-style digit (the ink's
 * bounding box scaled to fit 20x20, centred on its centre of mass in the 28x28 frame).
 */

/** Pixels (0..255) of an MNIST-style 28x28 digit from a grey image of `size` x `size`. */
export function toMnistPixels(grey: Uint8ClampedArray | Uint8Array, size: number): Uint8Array {
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (grey[y * size + x]! > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  const out = new Uint8Array(28 * 28);
  if (x1 < 0) return out;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  // box-filter the ink into a 20x20 (or narrower) box
  const bw = Math.max(1, Math.round(w * scale));
  const bh = Math.max(1, Math.round(h * scale));
  const box = new Float64Array(bw * bh);
  const hits = new Float64Array(bw * bh);
  for (let y = y0; y <= y1; y++) {
    const by = Math.min(bh - 1, Math.floor((y - y0) * scale));
    for (let x = x0; x <= x1; x++) {
      const bx = Math.min(bw - 1, Math.floor((x - x0) * scale));
      box[by * bw + bx]! += grey[y * size + x]!;
      hits[by * bw + bx]! += 1;
    }
  }
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < box.length; i++) {
    box[i] = hits[i]! > 0 ? box[i]! / hits[i]! : 0;
    mass += box[i]!;
    cx += box[i]! * (i % bw);
    cy += box[i]! * Math.floor(i / bw);
  }
  const ox = Math.round(14 - (mass > 0 ? cx / mass : bw / 2) - 0.5);
  const oy = Math.round(14 - (mass > 0 ? cy / mass : bh / 2) - 0.5);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const tx = x + ox;
      const ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) {
        out[ty * 28 + tx] = Math.min(255, Math.round(box[y * bw + x]!));
      }
    }
  }
  return out;
}

/** Makes `canvas` a drawing pad; `onDigit` gets the 28x28 pixels after each stroke. */
export function drawingPad(
  canvas: HTMLCanvasElement,
  onDigit: (pixels: Uint8Array) => void,
): { clear(): void } {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let drawing = false;
  const at = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * canvas.width) / r.width,
      ((e.clientY - r.top) * canvas.height) / r.height,
    ] as const;
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const grey = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0; i < grey.length; i++) grey[i] = data[i * 4]!;
    onDigit(toMnistPixels(grey, canvas.width));
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear };
}
