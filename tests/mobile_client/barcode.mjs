// Writes a barcode PNG with zxing-wasm's writer (the app's own dependency):
// node barcode.mjs FORMAT TEXT OUT.png
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pwa = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "mobile_client", "pwa");
const zxing = join(pwa, "node_modules", "zxing-wasm");
const { prepareZXingModule, writeBarcode } = await import(pathToFileURL(join(zxing, "dist", "es", "writer", "index.js")).href);
prepareZXingModule({ overrides: { wasmBinary: readFileSync(join(zxing, "dist", "writer", "zxing_writer.wasm")).buffer } });
const [format, text, out] = process.argv.slice(2);
const result = await writeBarcode(text, { format, scale: 3 });
if (result.error) throw new Error(result.error);
writeFileSync(out, Buffer.from(await result.image.arrayBuffer()));
