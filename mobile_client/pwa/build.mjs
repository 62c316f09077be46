// Builds dist/, the directory the hub serves at /capture/: the hand-written app
// from src/, the browser files of two npm packages (no CDN, no bundler), PNG
// icons drawn by code, and a service worker whose cache name is the build's hash.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");
const modules = join(root, "node_modules");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(src, dist, { recursive: true, filter: (path) => !path.endsWith("sw.js") });

const vendor = [
  ["tus-js-client/dist/tus.min.js", "vendor/tus.min.js"],
  ["tus-js-client/LICENSE", "vendor/tus-js-client.LICENSE"],
  ["zxing-wasm/dist/es/reader/index.js", "vendor/zxing/reader/index.js"],
  ["zxing-wasm/dist/es/share.js", "vendor/zxing/share.js"],
  ["zxing-wasm/dist/reader/zxing_reader.wasm", "vendor/zxing/zxing_reader.wasm"],
  ["zxing-wasm/LICENSE", "vendor/zxing/LICENSE"],
];
for (const [from, to] of vendor) {
  mkdirSync(dirname(join(dist, to)), { recursive: true });
  cpSync(join(modules, from), join(dist, to));
}

for (const size of [192, 512]) {
  writeFileSync(join(dist, "icons", `icon-${size}.png`), iconPng(size));
}

// The service worker precaches every file of the build (the app shell).
const files = walk(dist).map((path) => relative(dist, path)).sort();
const hash = createHash("sha256");
for (const file of files) hash.update(file).update(readFileSync(join(dist, file)));
const version = hash.digest("hex").slice(0, 12);
const shell = ["./", ...files.filter((file) => file !== "index.html")];
const worker = readFileSync(join(src, "sw.js"), "utf8")
  .replace("__VERSION__", version)
  .replace('["__SHELL__"]', JSON.stringify(shell));
writeFileSync(join(dist, "sw.js"), worker);
console.log(`dist/ built: ${files.length + 1} files, shell version ${version}`);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

// The app icon: a white camera on the brand blue, full bleed so it is also maskable.
function iconPng(size) {
  const rgba = Buffer.alloc(size * size * 4);
  const s = size / 100;
  const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = px / s;
      const y = py / s;
      const d = Math.hypot(x - 50, y - 55);
      const body = inRoundRect(x, y, 22, 36, 78, 74, 6) || inRoundRect(x, y, 38, 29, 58, 40, 3);
      const lens = d < 13 && d > 8;
      const i = (py * size + px) * 4;
      const [r, g, b] = body && !lens ? [255, 255, 255] : [0x0b, 0x5c, 0xad];
      rgba[i] = r;
      rgba[i + 1] = g;
      rgba[i + 2] = b;
      rgba[i + 3] = 255;
    }
  }
  return png(size, size, rgba);
}

function png(width, height, rgba) {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function crc32(buffer) {
  let crc = ~0;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}
