// A quick check of a photo before it is sent: is it sharp enough, and bright enough?
// Both measures run on a copy scaled to WORKING_SIZE on its longest side, so they
// mean the same on a 2 MP and a 48 MP camera and take a few milliseconds.
//
// Sharpness: the variance of the Laplacian (4-neighbour kernel) of the luma. An
// in-focus photo of skin, a wound edge or a dressing has strong local edges; a
// blurred one has few. Below BLUR_THRESHOLD the nurse is asked to retake.
// Exposure: mean luma (BT.601, 0..255). Below DARK_THRESHOLD the photo is too dark
// to show tissue colour reliably. Both thresholds are documented in docs/mobile-app.md.

export const WORKING_SIZE = 512;
export const BLUR_THRESHOLD = 60;
export const DARK_THRESHOLD = 45;

/** Luma of `imageData` as a Float32Array. */
function luma({ data, width, height }) {
  const out = new Float32Array(width * height);
  for (let i = 0, p = 0; p < out.length; i += 4, p++) {
    out[p] = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
  }
  return out;
}

/** `{ sharpness, brightness }` of an ImageData. */
export function measure(imageData) {
  const { width, height } = imageData;
  const y = luma(imageData);
  let sum = 0;
  for (const value of y) sum += value;
  const brightness = sum / y.length;
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (let row = 1; row < height - 1; row++) {
    for (let col = 1; col < width - 1; col++) {
      const p = row * width + col;
      const laplacian = y[p - width] + y[p + width] + y[p - 1] + y[p + 1] - 4 * y[p];
      // Welford's running variance: one pass, no second array.
      count++;
      const delta = laplacian - mean;
      mean += delta / count;
      m2 += delta * (laplacian - mean);
    }
  }
  return { sharpness: count ? m2 / count : 0, brightness };
}

/** Measures a photo (Blob); `problems` lists what is wrong, in words for the nurse. */
export async function photoQuality(blob) {
  const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
  const scale = Math.min(1, WORKING_SIZE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(3, Math.round(bitmap.width * scale));
  const height = Math.max(3, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const result = measure(context.getImageData(0, 0, width, height));
  const problems = [];
  if (result.brightness < DARK_THRESHOLD) problems.push("It looks too dark: add light or move closer to a window.");
  if (result.sharpness < BLUR_THRESHOLD) problems.push("It looks blurred: hold still and let the camera focus.");
  return { ...result, problems };
}
