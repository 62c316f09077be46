// Wristband barcodes from the camera: the browser's BarcodeDetector where it has
// one (Android Chrome, Safari), else ZXing-C++ compiled to WebAssembly (zxing-wasm),
// served from this app's own files.

const FORMATS = ["Code128", "Code39", "QRCode", "DataMatrix", "PDF417", "Codabar"];
const NATIVE_FORMATS = ["code_128", "code_39", "qr_code", "data_matrix", "pdf417", "codabar"];
const SCAN_INTERVAL_MS = 250;
const MAX_FRAME_WIDTH = 1280;

let zxing = null;
let nativeDetector;

async function zxingReader() {
  if (!zxing) {
    zxing = import("./vendor/zxing/reader/index.js").then((module) => {
      const wasm = new URL("./vendor/zxing/zxing_reader.wasm", import.meta.url).href;
      module.prepareZXingModule({
        overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
      });
      return module;
    });
  }
  return zxing;
}

async function detector() {
  if (nativeDetector !== undefined) return nativeDetector;
  nativeDetector = null;
  if ("BarcodeDetector" in globalThis) {
    try {
      const supported = await BarcodeDetector.getSupportedFormats();
      const formats = NATIVE_FORMATS.filter((format) => supported.includes(format));
      if (formats.includes("code_128") || formats.includes("qr_code")) nativeDetector = new BarcodeDetector({ formats });
    } catch {
      nativeDetector = null;
    }
  }
  return nativeDetector;
}

/** The text of the first barcode in `imageData` (an ImageData), or null. */
export async function decodeImageData(imageData) {
  const native = await detector();
  if (native) {
    const found = await native.detect(imageData);
    if (found.length) return found[0].rawValue;
  }
  const { readBarcodes } = await zxingReader();
  const results = await readBarcodes(imageData, { formats: FORMATS, tryHarder: true, maxNumberOfSymbols: 1 });
  const valid = results.find((result) => result.isValid && result.text);
  return valid ? valid.text : null;
}

/** Decodes a still image (Blob or URL): used for photos of a wristband, and by the tests. */
export async function decodeImage(source) {
  const blob = typeof source === "string" ? await (await fetch(source)).blob() : source;
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return decodeImageData(context.getImageData(0, 0, canvas.width, canvas.height));
}

/**
 * Starts the rear camera in `video` and calls `onCode(text)` once a barcode is read.
 * Returns a function that stops the camera.
 */
export async function scanStart(video, onCode) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } },
    audio: false,
  });
  video.srcObject = stream;
  await video.play();
  zxingReader(); // start fetching the decoder while the camera settles
  let stopped = false;
  let timer = null;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  const tick = async () => {
    if (stopped) return;
    if (video.videoWidth) {
      const scale = Math.min(1, MAX_FRAME_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      try {
        const text = await decodeImageData(context.getImageData(0, 0, canvas.width, canvas.height));
        if (text && !stopped) {
          stop();
          onCode(text.trim());
          return;
        }
      } catch (error) {
        console.warn("barcode decoding failed", error);
      }
    }
    timer = setTimeout(tick, SCAN_INTERVAL_MS);
  };
  tick();
  return stop;
}
