// A wound photo's wound and outline, the last photo of a known wound as a ghost to
// frame the next one by, and the sizes and area trend once the hub has measured it
// (docs/wound-measurement.md). The patient's wounds are held in memory only: like
// everything about the patient, they never reach the phone's storage.
import { apiErrorOf, authHeaders, captureGet } from "./api.js";
import { draftUpdate } from "./drafts.js";
import { queueSubscribe } from "./queue.js";
import { traceOutline } from "./tracing.js";
import { $, announce, formatDate, onScreenChange, state } from "./ui.js";

const MEASURED = new Set(["wound", "burn"]);
const POLL_MS = 1500;
const POLL_GIVE_UP_MS = 10 * 60_000;

let known = { patient: null, wounds: [], problem: "" };
const thumbnails = new Map(); // wound id -> object URL of its last photo
const series = new Map(); // wound id -> [{capture, date, area_cm2, ...}], for the trend
let nextWound = "new"; // the ghost's choice: the wound the next photo is of
const followed = new Map(); // capture id -> what the results list shows
const labels = new Map(); // capture id -> its queue label ("DOE · Photo 1 · Lower leg (left)")

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

async function call(method, url, json) {
  let response;
  try {
    response = await fetch(url, {
      method,
      // The API answers errors in JSON: a picture's request accepts both.
      headers: { Accept: json ? "application/json" : "image/jpeg, application/json", ...(json ? { "Content-Type": "application/json" } : {}), ...authHeaders() },
      body: json ? JSON.stringify(json) : undefined,
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw apiErrorOf(0);
  }
  if (!response.ok) throw apiErrorOf(response.status, await response.text(), response.headers.get("Retry-After"));
  return json ? response.json() : response.blob();
}

export const wantsMeasurement = (shot) => MEASURED.has(state.specialty) && shot.kind === "photo";

// ---- the patient's wounds --------------------------------------------------------

async function refreshWounds() {
  const patient = state.patient;
  if (!patient || !MEASURED.has(state.specialty)) return;
  const key = `${patient.issuer || ""}|${patient.id}`;
  if (known.patient !== key) {
    known = { patient: key, wounds: [], problem: "" };
    nextWound = "new";
  }
  try {
    // The MRN travels in the body, as in every look-up: no URL holds it.
    const body = await call("POST", "/api/v1/patients/wounds", { identifier: patient.id, ...(patient.issuer ? { issuer: patient.issuer } : {}) });
    if (state.patient !== patient) return;
    known.wounds = body.results;
    known.problem = "";
    for (const wound of body.results) series.set(wound.id, wound.series);
    await Promise.all(body.results.filter((w) => w.last_photo && !thumbnails.has(w.id)).map(loadThumbnail));
  } catch (error) {
    known.problem = error.status === 0 ? "Known wounds cannot be shown offline: a photo now is of a new wound unless you choose later." : `Known wounds cannot be shown: ${error.message}`;
  }
  renderGhost();
  rerenderPanels();
}

async function loadThumbnail(wound) {
  try {
    thumbnails.set(wound.id, URL.createObjectURL(await call("GET", wound.last_photo.thumbnail)));
  } catch {
    // A wound without its picture is still a wound to choose.
  }
}

function forgetPatient() {
  for (const url of thumbnails.values()) URL.revokeObjectURL(url);
  thumbnails.clear();
  known = { patient: null, wounds: [], problem: "" };
  nextWound = "new";
  renderGhost();
}

function woundLabel(wound) {
  const last = wound.series[wound.series.length - 1];
  return last ? `${wound.tracking_identifier} · ${last.area_cm2.toFixed(1)} cm² on ${formatDate(last.date)}` : wound.tracking_identifier;
}

// ---- the ghost: the last photo of the wound the next photo is of ----------------------

const ghost = element("div", { id: "wound-ghost", class: "wound-ghost", hidden: "" });
$('label[for="camera-input"]').before(ghost);

function renderGhost() {
  ghost.replaceChildren();
  ghost.hidden = !MEASURED.has(state.specialty) || !state.patient || (!known.wounds.length && !known.problem);
  if (ghost.hidden) return;
  if (known.problem) {
    ghost.append(element("p", { class: "hint" }, known.problem));
    return;
  }
  const label = element("label", { for: "ghost-wound" }, "The next photo is of");
  const select = element("select", { id: "ghost-wound" });
  select.append(element("option", { value: "new" }, "A new wound"));
  for (const wound of known.wounds) select.append(element("option", { value: wound.id }, woundLabel(wound)));
  select.value = nextWound;
  select.addEventListener("change", () => {
    nextWound = select.value;
    renderGhost();
  });
  ghost.append(label, select);
  const wound = known.wounds.find((w) => w.id === nextWound);
  if (!wound) return;
  if (thumbnails.has(wound.id)) {
    const figure = element("figure", { class: "ghost-frame" });
    const picture = element("img", { id: "ghost-photo", class: "ghost", src: thumbnails.get(wound.id), alt: `Last photo of ${wound.tracking_identifier}` });
    const caption = element("figcaption", {}, `Last photo, ${formatDate(wound.last_photo.taken_at)}: frame the next one the same way, the sticker beside the wound.`);
    figure.append(picture, caption);
    ghost.append(figure);
  }
  if (wound.series.length) ghost.append(areaChart(wound.series, wound.tracking_identifier));
}

// ---- one photo's wound and outline ------------------------------------------------------

// Kept on the shot, so the draft (drafts.js) keeps it over a reload.
function choiceOf(shot) {
  if (!shot.wound) shot.wound = { wound: nextWound, outline: null, tap: null };
  return shot.wound;
}

function choiceKept(shot) {
  draftUpdate(shot, state.sitting).catch((error) => console.warn("draft not updated", error));
}

const panels = new Map(); // shot id -> its panel, redrawn when the wounds arrive

function rerenderPanels() {
  for (const [id, panel] of panels) {
    const shot = state.shots.find((s) => s.id === id);
    if (!shot || !panel.isConnected) panels.delete(id);
    else panel.replaceWith(woundPanel(shot));
  }
}

/** The wound and outline controls of one photo's card (empty for other captures). */
export function woundPanel(shot) {
  const panel = element("div", { class: "wound-panel" });
  if (!wantsMeasurement(shot)) return panel;
  panels.set(shot.id, panel);
  const choice = choiceOf(shot);
  const fieldset = element("fieldset", { class: "wound-choice" });
  fieldset.append(element("legend", {}, "Which wound is it?"));
  const options = [{ id: "new", label: "A new wound" }, ...known.wounds.map((w) => ({ id: w.id, label: woundLabel(w), wound: w }))];
  for (const option of options) {
    const label = element("label", { class: "wound-option" });
    const radio = element("input", { type: "radio", name: `wound-${shot.id}`, value: option.id });
    radio.checked = choice.wound === option.id;
    radio.addEventListener("change", () => {
      choice.wound = option.id;
      choiceKept(shot);
    });
    label.append(radio);
    if (option.wound && thumbnails.has(option.id)) label.append(element("img", { src: thumbnails.get(option.id), alt: "", class: "wound-thumb" }));
    label.append(document.createTextNode(option.label));
    fieldset.append(label);
  }
  const outline = element(
    "p",
    { class: "outline-state" },
    choice.outline ? `Outline traced (${choice.outline.length} points)` : choice.tap ? "Automatic outline from the point tapped" : "Automatic outline",
  );
  const trace = element("button", { type: "button", class: "secondary" }, choice.outline ? "Change the outline" : "Trace the outline");
  trace.setAttribute("aria-label", `${trace.textContent} of this photo`);
  trace.addEventListener("click", async () => {
    const traced = await traceOutline(shot.url, choice);
    if (!traced) return;
    Object.assign(choice, traced);
    choiceKept(shot);
    panel.replaceWith(woundPanel(shot));
    announce(traced.outline ? "Outline kept: the hub measures it when the photo is sent" : "The hub outlines the wound automatically");
  });
  panel.append(fieldset, outline, trace);
  return panel;
}

/** What the capture context says of the photo's wound and outline (docs/capture-context.md). */
export function woundContext(shot) {
  if (!wantsMeasurement(shot)) return {};
  const choice = choiceOf(shot);
  return {
    wound: choice.wound === "new" ? { new: true } : { id: choice.wound },
    ...(choice.outline ? { outline: { points: choice.outline } } : {}),
    ...(choice.tap ? { tap: choice.tap } : {}),
  };
}

// ---- the area trend ------------------------------------------------------------------

/** A small inline SVG of the area over time: no chart library. */
export function areaChart(points, title) {
  const width = 280;
  const height = 90;
  const pad = 14;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "area-chart");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  const first = points[0];
  const last = points[points.length - 1];
  svg.setAttribute(
    "aria-label",
    `Area of ${title}: ${points.map((p) => `${p.area_cm2.toFixed(1)} cm² on ${formatDate(p.date)}`).join(", ")}`,
  );
  const times = points.map((p) => new Date(p.date).getTime());
  const areas = points.map((p) => p.area_cm2);
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const top = Math.max(...areas) * 1.1 || 1;
  const x = (t) => (t1 > t0 ? pad + ((t - t0) / (t1 - t0)) * (width - 2 * pad) : width / 2);
  const y = (a) => height - pad - (a / top) * (height - 2 * pad);
  const svgElement = (tag, attributes) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  };
  svg.append(svgElement("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  svg.append(svgElement("polyline", { points: points.map((p, i) => `${x(times[i])},${y(p.area_cm2)}`).join(" "), class: "trend" }));
  points.forEach((p, i) => svg.append(svgElement("circle", { cx: x(times[i]), cy: y(p.area_cm2), r: 4, class: "point" })));
  const label = (text, at, anchor) => {
    const node = svgElement("text", { x: at[0], y: at[1], "text-anchor": anchor });
    node.textContent = text;
    svg.append(node);
  };
  label(`${first.area_cm2.toFixed(1)} cm²`, [pad, 11], "start");
  if (points.length > 1) label(`${last.area_cm2.toFixed(1)} cm²`, [width - pad, 11], "end");
  return svg;
}

// ---- once sent: the measurement the hub made ---------------------------------------------

const results = element("ul", { id: "wound-results", class: "wound-results", "aria-live": "polite", "aria-label": "Wound measurements" });
$("#queue-list").after(results);

async function follow(captureId) {
  const started = Date.now();
  while (Date.now() - started < POLL_GIVE_UP_MS) {
    try {
      const capture = await captureGet(captureId);
      const measurement = capture.measurement;
      if (measurement && measurement.state !== "due") {
        followed.set(captureId, { capture, measurement });
        renderResults();
        return;
      }
      // No measurement once the photo is past encapsulation: it is not a measured photo.
      if (!measurement && !["received", "inspected", "matched", "unmatched"].includes(capture.status)) return;
    } catch (error) {
      if (error.permanent) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function renderResults() {
  results.replaceChildren();
  for (const [captureId, entry] of followed) {
    if (!entry) continue;
    const { capture, measurement } = entry;
    const item = element("li", { class: "wound-result", "data-capture": captureId, "data-state": measurement.state });
    if (measurement.state === "measured") {
      const how = measurement.method === "outline" ? "traced outline" : "automatic outline";
      item.append(
        element("strong", {}, `${labels.get(captureId) || "Photo"}: wound measured`),
        element("span", { class: "sizes" }, `Area ${measurement.area_cm2.toFixed(2)} cm² · length ${measurement.length_cm.toFixed(2)} cm · width ${measurement.width_cm.toFixed(2)} cm (${how})`),
      );
      const history = [...(series.get(measurement.wound) || [])];
      if (!history.some((p) => p.capture === captureId)) {
        history.push({ capture: captureId, date: capture.context.captured_at || capture.created_at, area_cm2: measurement.area_cm2 });
        series.set(measurement.wound, history);
      }
      history.sort((a, b) => new Date(a.date) - new Date(b.date));
      item.append(areaChart(history, "this wound"));
    } else {
      item.append(element("strong", {}, `${labels.get(captureId) || "Photo"}: not measured`), element("span", { class: "reason" }, measurement.reason));
    }
    results.append(item);
  }
}

queueSubscribe((items) => {
  for (const item of items) {
    if (item.captureId && !followed.has(item.captureId)) {
      labels.set(item.captureId, item.label);
      followed.set(item.captureId, null);
      follow(item.captureId).then(() => {
        if (followed.get(item.captureId) === null) followed.delete(item.captureId);
      });
    }
  }
});

onScreenChange((name) => {
  if (name === "capture") refreshWounds();
  else if (name === "patient") forgetPatient();
  else if (name === "signin") {
    forgetPatient();
    series.clear();
    followed.clear();
    labels.clear();
    results.replaceChildren();
  }
});
