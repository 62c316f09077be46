// Tracing the wound's edge with a finger on the photo just taken (docs/wound-measurement.md).
// The outline is in the photo's own pixels as displayed (the browser applies its EXIF
// orientation to <img>, and naturalWidth/Height are those of the turned photo), which
// is what the hub measures in. A tap without a trace is the point the hub's automatic
// outline starts from. The hub judges the outline (crossing, outside the photo).

// The context takes at most 2,000 points; a finger's trace needs far fewer.
const MAX_POINTS = 600;
// Points closer than this share of the photo's longer side add nothing but noise.
const STEP_SHARE = 0.004;

let dialog = null;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function build() {
  dialog = element("dialog", { id: "trace-dialog", class: "trace", "aria-labelledby": "trace-title" });
  const title = element("h2", { id: "trace-title" }, "Trace the wound's edge");
  const hint = element("p", { id: "trace-hint", class: "hint" }, "Draw once around the wound with your finger. Or tap the wound and let the hub find its edge.");
  const stage = element("div", { class: "trace-stage" });
  const photo = element("img", { id: "trace-photo", alt: "The photo to trace on" });
  const canvas = element("canvas", { id: "trace-canvas", "aria-label": "Draw the wound's outline here" });
  stage.append(photo, canvas);
  const status = element("p", { id: "trace-status", role: "status" });
  const actions = element("div", { class: "actions" });
  const use = element("button", { type: "button", id: "trace-use", class: "primary" }, "Use this outline");
  const clear = element("button", { type: "button", id: "trace-clear", class: "secondary" }, "Clear");
  const auto = element("button", { type: "button", id: "trace-auto", class: "secondary" }, "Automatic outline");
  const cancel = element("button", { type: "button", id: "trace-cancel", class: "secondary" }, "Cancel");
  actions.append(use, clear, auto, cancel);
  dialog.append(title, hint, stage, status, actions);
  document.body.append(dialog);
}

/** Drops points nearer than `step` to the last kept, then evenly down to MAX_POINTS. */
function thinned(points, step) {
  const kept = [];
  for (const point of points) {
    const last = kept[kept.length - 1];
    if (!last || Math.hypot(point[0] - last[0], point[1] - last[1]) >= step) kept.push(point);
  }
  if (kept.length <= MAX_POINTS) return kept;
  const every = kept.length / MAX_POINTS;
  return Array.from({ length: MAX_POINTS }, (_, i) => kept[Math.floor(i * every)]);
}

const round = (value) => Math.round(value * 10) / 10;

/**
 * Opens the tracing dialog over `photoUrl`. Resolves with
 * `{ outline: [[x, y], ...] | null, tap: [x, y] | null }` (both null: the automatic
 * outline from the photo's centre), or null when the nurse cancels.
 */
export function traceOutline(photoUrl, current = {}) {
  if (!dialog) build();
  const photo = dialog.querySelector("#trace-photo");
  const canvas = dialog.querySelector("#trace-canvas");
  const status = dialog.querySelector("#trace-status");
  const use = dialog.querySelector("#trace-use");
  let points = current.outline ? current.outline.map((p) => [...p]) : [];
  let tap = current.tap ? [...current.tap] : null;
  let drawing = false;
  let raw = [];

  const scale = () => photo.naturalWidth / photo.clientWidth;
  const toPhoto = (event) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - box.left, 0), box.width);
    const y = Math.min(Math.max(event.clientY - box.top, 0), box.height);
    return [x * scale(), y * scale()];
  };
  const paint = () => {
    canvas.width = photo.clientWidth;
    canvas.height = photo.clientHeight;
    const pen = canvas.getContext("2d");
    pen.clearRect(0, 0, canvas.width, canvas.height);
    pen.lineWidth = 3;
    pen.strokeStyle = "#ffeb3b";
    pen.fillStyle = "rgba(255, 235, 59, 0.18)";
    const shown = drawing ? raw : points;
    if (shown.length > 1) {
      pen.beginPath();
      shown.forEach(([x, y], i) => (i ? pen.lineTo(x / scale(), y / scale()) : pen.moveTo(x / scale(), y / scale())));
      if (!drawing) pen.closePath();
      pen.fill();
      pen.stroke();
    }
    if (tap && !points.length) {
      pen.beginPath();
      pen.arc(tap[0] / scale(), tap[1] / scale(), 8, 0, 2 * Math.PI);
      pen.stroke();
    }
    status.textContent = points.length
      ? `Outline of ${points.length} points: the hub measures it.`
      : tap
        ? "The hub outlines the wound from the point you tapped."
        : "No outline yet: the hub finds the wound automatically.";
    use.disabled = !points.length && !tap;
  };

  canvas.onpointerdown = (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    raw = [toPhoto(event)];
    paint();
  };
  canvas.onpointermove = (event) => {
    if (!drawing) return;
    raw.push(toPhoto(event));
    paint();
  };
  canvas.onpointerup = canvas.onpointercancel = () => {
    if (!drawing) return;
    drawing = false;
    const step = STEP_SHARE * Math.max(photo.naturalWidth, photo.naturalHeight);
    const trace = thinned(raw, step);
    if (trace.length >= 3) {
      points = trace.map(([x, y]) => [round(x), round(y)]);
      tap = null;
    } else {
      tap = raw[0].map(round);
      points = [];
    }
    paint();
  };

  photo.onload = paint;
  photo.src = photoUrl;
  if (photo.complete && photo.naturalWidth) paint();
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (answer) => {
      for (const id of ["#trace-use", "#trace-clear", "#trace-auto", "#trace-cancel"]) dialog.querySelector(id).onclick = null;
      dialog.oncancel = null;
      dialog.close();
      photo.removeAttribute("src");
      resolve(answer);
    };
    dialog.querySelector("#trace-use").onclick = () => done({ outline: points.length ? points : null, tap: points.length ? null : tap });
    dialog.querySelector("#trace-clear").onclick = () => {
      points = [];
      tap = null;
      paint();
    };
    dialog.querySelector("#trace-auto").onclick = () => done({ outline: null, tap: null });
    dialog.querySelector("#trace-cancel").onclick = () => done(null);
    dialog.oncancel = () => done(null);
  });
}
