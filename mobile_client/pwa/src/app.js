// The capture app: sign in, patient, order or encounter, photos, body site, send.
import { ApiError, encountersFor, ordersFor, patientsFind, session, sessionForget, signIn } from "./api.js";
import { SITES, drawBodyMap, siteLabel } from "./bodysites.js";
import { photoQuality } from "./quality.js";
import {
  ATTENTION,
  DONE,
  STATUS_WORDS,
  queueAdd,
  queueDiscard,
  queuePending,
  queueStart,
  queueStop,
  queueSubscribe,
} from "./queue.js";
import { scanStart } from "./scanner.js";

// Specialties whose captures are of the body surface: a body site is required.
const SITE_REQUIRED = new Set(["wound", "burn", "dermatology", "dermoscopy"]);
const CONSENT = { true: "[consent: yes]", false: "[consent: not recorded]" };

const $ = (selector) => document.querySelector(selector);
const state = { patient: null, candidates: [], link: null, specialty: "wound", shots: [], editing: null, view: "front", stopScan: null };

// ---- screens ---------------------------------------------------------------

function go(name) {
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  const signedIn = Boolean(session());
  $("#sign-out").hidden = !signedIn;
  $("#show-queue").hidden = !signedIn || name === "queue";
  if (name !== "patient") scanStop();
  const heading = $(`#screen-${name} h1`);
  document.title = `${heading.textContent} · Clinical capture`;
  heading.focus();
  window.scrollTo(0, 0);
}

function announce(text) {
  $("#announce").textContent = text;
}

function setError(id, text) {
  $(id).textContent = text || "";
}

// ---- sign in / out -----------------------------------------------------------

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) return setError("#signin-error", "Enter your user name and password.");
  setError("#signin-error", "");
  try {
    await signIn(username, password);
  } catch (error) {
    return setError("#signin-error", error.status === 400 ? "User name or password is wrong." : error.message);
  }
  $("#password").value = "";
  await queueStart();
  startPatient();
});

$("#sign-out").addEventListener("click", async () => {
  const pending = queuePending();
  if (pending && !confirm(`${pending} capture(s) are not at the hub yet. They stay encrypted on this phone and are sent after the next sign-in. Sign out?`)) return;
  await queueStop();
  sessionForget();
  resetPatient();
  $("#username").value = "";
  go("signin");
});

globalThis.addEventListener("capture:signin-needed", () => {
  sessionForget();
  setError("#signin-error", "Your session has ended: sign in again to send the waiting captures.");
  go("signin");
});

// ---- patient -------------------------------------------------------------------

function startPatient() {
  resetPatient();
  go("patient");
}

function resetPatient() {
  for (const shot of state.shots) URL.revokeObjectURL(shot.url);
  Object.assign(state, { patient: null, candidates: [], link: null, shots: [], editing: null });
  $("#mrn").value = "";
  $("#note").value = "";
  $("#consent").checked = false;
  $("#manual-form").reset();
  $("#confirm-list").replaceChildren();
  for (const banner of document.querySelectorAll("[data-patient-banner]")) banner.textContent = "";
  setError("#patient-error", "");
  renderShots();
}

$("#scan-start").addEventListener("click", async () => {
  setError("#patient-error", "");
  $("#scanner").hidden = false;
  $("#scan-start").hidden = true;
  $("#scan-status").textContent = "Point the camera at the wristband barcode.";
  try {
    state.stopScan = await scanStart($("#scan-video"), (code) => {
      state.stopScan = null;
      $("#scanner").hidden = true;
      $("#scan-start").hidden = false;
      $("#mrn").value = code;
      announce(`Wristband read: ${code}`);
      findPatient(code);
    });
  } catch (error) {
    scanStop();
    setError("#patient-error", `The camera cannot be used (${error.name || error.message}). Type the MRN instead.`);
  }
});

$("#scan-stop").addEventListener("click", scanStop);

function scanStop() {
  if (state.stopScan) state.stopScan();
  state.stopScan = null;
  $("#scanner").hidden = true;
  $("#scan-start").hidden = false;
}

$("#mrn-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const mrn = $("#mrn").value.trim();
  if (!mrn) return setError("#patient-error", "Type the MRN from the wristband, or scan it.");
  findPatient(mrn);
});

async function findPatient(mrn) {
  setError("#patient-error", "");
  let body;
  try {
    body = await patientsFind(mrn);
  } catch (error) {
    // A hub without the look-up endpoint has no patient directory: type the details.
    if (!(error instanceof ApiError && error.status === 404)) return setError("#patient-error", error.message);
    body = { lookup: "none", results: [] };
  }
  state.lookup = body.lookup;
  $("#confirm-list").replaceChildren();
  $("#manual-form").hidden = body.lookup !== "none";
  $("#confirm-title").textContent = body.lookup === "none" ? "Patient details" : "Is this the patient?";
  if (body.lookup === "none") {
    $("#manual-mrn").textContent = mrn;
    state.candidates = [{ identifier: mrn, issuer: null }];
    go("confirm");
    return;
  }
  const results = body.results || [];
  if (!results.length) return setError("#patient-error", `No patient has the MRN ${mrn}. Check the wristband.`);
  state.candidates = results;
  results.forEach((patient, index) => {
    const card = document.createElement("div");
    card.className = "card";
    const name = document.createElement("p");
    name.className = "patient-name";
    name.textContent = personName(patient.name) || "(no name on record)";
    const facts = document.createElement("dl");
    for (const [term, value] of [
      ["Born", formatDate(patient.birth_date)],
      ["Sex", { F: "Female", M: "Male", O: "Other" }[patient.sex] || "Unknown"],
      ["MRN", [patient.identifier, patient.issuer].filter(Boolean).join(" · ")],
    ]) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value || "Unknown";
      facts.append(dt, dd);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    button.textContent = "Yes, this is the patient";
    button.setAttribute("aria-label", `Yes, this is ${name.textContent}, born ${formatDate(patient.birth_date)}`);
    button.addEventListener("click", () => patientConfirmed(results[index]));
    card.append(name, facts, button);
    $("#confirm-list").append(card);
  });
  go("confirm");
}

$("#confirm-back").addEventListener("click", startPatient);

$("#manual-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const family = clean($("#family").value);
  const given = clean($("#given").value);
  const birth = $("#birth").value;
  if (!family || !birth) return setError("#manual-error", "Family name and birth date are needed.");
  if (/[\^=]/.test(family + given)) return setError("#manual-error", "Names cannot contain ^ or =.");
  setError("#manual-error", "");
  const sex = document.querySelector("input[name=sex]:checked");
  patientConfirmed({
    identifier: state.candidates[0].identifier,
    issuer: null,
    name: given ? `${family}^${given}` : family,
    birth_date: birth,
    sex: sex ? sex.value : null,
  });
});

async function patientConfirmed(patient) {
  state.patient = {
    id: patient.identifier,
    issuer: patient.issuer || null,
    name: patient.name || null,
    birth_date: patient.birth_date || null,
    sex: patient.sex || null,
  };
  const banner = `${personName(patient.name) || "Unnamed"} · born ${formatDate(patient.birth_date) || "?"} · ${patient.identifier}`;
  for (const element of document.querySelectorAll("[data-patient-banner]")) element.textContent = banner;
  await renderLinks(patient.identifier);
  go("context");
}

// ---- order or encounter ------------------------------------------------------

async function renderLinks(identifier) {
  const choices = $("#context-choices");
  choices.replaceChildren();
  let orders = [];
  let encounters = [];
  if (state.lookup !== "none") {
    [orders, encounters] = await Promise.all([
      ordersFor(identifier).then((body) => body.results || [], () => []),
      encountersFor(identifier).then((body) => body.results || [], () => []),
    ]);
  }
  const add = (value, title, detail) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "link";
    input.value = value;
    const text = document.createElement("span");
    text.textContent = title;
    if (detail) {
      const small = document.createElement("small");
      small.textContent = detail;
      text.append(small);
    }
    label.append(input, text);
    choices.append(label);
  };
  state.links = { none: null };
  orders.forEach((order, i) => {
    state.links[`order-${i}`] = { order };
    add(`order-${i}`, `Order ${order.accession_number || order.id}: ${order.description || "no description"}`, order.authored_on ? `Ordered ${formatDate(order.authored_on)}` : "");
  });
  encounters.forEach((encounter, i) => {
    state.links[`encounter-${i}`] = { encounter };
    const kind = { IMP: "Inpatient stay", AMB: "Outpatient visit", EMER: "Emergency visit" }[encounter.class] || "Encounter";
    add(`encounter-${i}`, `${kind} ${encounter.identifier || encounter.id}`, encounter.start ? `Since ${formatDate(encounter.start)}` : "");
  });
  add("none", "No order or encounter", orders.length || encounters.length ? "" : "None is open for this patient");
  const only = choices.querySelectorAll("input");
  if (only.length === 1) only[0].checked = true;
}

$("#context-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = document.querySelector("input[name=link]:checked");
  if (!chosen) {
    announce("Choose an order, an encounter, or none.");
    document.querySelector("input[name=link]").focus();
    return;
  }
  state.link = state.links[chosen.value];
  state.specialty = $("#specialty").value;
  renderShots();
  go("capture");
});

// ---- capture -----------------------------------------------------------------

$("#camera-input").addEventListener("change", async (event) => {
  const files = [...event.target.files];
  event.target.value = ""; // the same file may be picked again after a retake
  for (const file of files) await addShot(file);
});

async function addShot(file) {
  const kind = file.type.startsWith("video/") ? "video" : file.type.startsWith("image/") ? "photo" : null;
  if (!kind) return setError("#capture-error", "Only photos and videos can be sent.");
  setError("#capture-error", "");
  const shot = { id: crypto.randomUUID(), file, kind, url: URL.createObjectURL(file), takenAt: new Date(), site: lastSite(), kept: false };
  if (kind === "photo") {
    try {
      const quality = await photoQuality(file);
      shot.quality = quality;
      if (quality.problems.length && !(await askRetake(shot, quality.problems))) {
        URL.revokeObjectURL(shot.url);
        $("#camera-input").click();
        return;
      }
      shot.kept = quality.problems.length > 0;
    } catch {
      return setError("#capture-error", "This photo cannot be read. Take it again.");
    }
  }
  state.shots.push(shot);
  renderShots();
  editSite(shot.id);
}

function lastSite() {
  const last = state.shots[state.shots.length - 1];
  return last && last.site ? { ...last.site } : null;
}

/** Resolves true to keep the photo, false to retake. */
function askRetake(shot, problems) {
  const dialog = $("#quality-dialog");
  $("#quality-thumb").src = shot.url;
  $("#quality-text").textContent = problems.join(" ");
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (keep) => {
      $("#quality-retake").onclick = $("#quality-keep").onclick = dialog.oncancel = null;
      dialog.close();
      $("#quality-thumb").removeAttribute("src");
      resolve(keep);
    };
    $("#quality-retake").onclick = () => done(false);
    $("#quality-keep").onclick = () => done(true);
    dialog.oncancel = () => done(false);
  });
}

function renderShots() {
  const list = $("#shots");
  list.replaceChildren();
  state.shots.forEach((shot, index) => {
    const item = document.createElement("li");
    item.className = "card shot";
    const preview = document.createElement(shot.kind === "video" ? "video" : "img");
    preview.src = shot.url;
    if (shot.kind === "video") preview.muted = true;
    preview.alt = `${shot.kind === "video" ? "Video" : "Photo"} ${index + 1}`;
    const body = document.createElement("div");
    body.className = "body";
    const title = document.createElement("strong");
    title.textContent = `${shot.kind === "video" ? "Video" : "Photo"} ${index + 1}`;
    const site = document.createElement("span");
    site.className = shot.site ? "site" : "site missing";
    site.textContent = shot.site ? siteLabel(shot.site) : "No body site yet";
    body.append(title, site);
    if (shot.kept) {
      const badge = document.createElement("span");
      badge.className = "badge warn";
      badge.textContent = "Quality warning (kept)";
      body.append(badge);
    }
    const row = document.createElement("div");
    row.className = "row";
    const change = document.createElement("button");
    change.type = "button";
    change.textContent = shot.site ? "Change site" : "Choose site";
    change.setAttribute("aria-label", `${change.textContent} of ${title.textContent}`);
    change.addEventListener("click", () => editSite(shot.id));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${title.textContent}`);
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(shot.url);
      state.shots = state.shots.filter((other) => other !== shot);
      renderShots();
      announce(`${title.textContent} removed`);
    });
    row.append(change, remove);
    body.append(row);
    item.append(preview, body);
    list.append(item);
  });
  const missing = SITE_REQUIRED.has(state.specialty) && state.shots.some((shot) => !shot.site);
  $("#capture-done").disabled = !state.shots.length || missing;
  setError("#capture-error", missing ? "Choose the body site of every photo before you continue." : "");
}

$("#capture-done").addEventListener("click", () => go("note"));

// ---- body site -------------------------------------------------------------------

for (const [key, site] of Object.entries(SITES).sort((a, b) => a[1].meaning.localeCompare(b[1].meaning))) {
  const option = document.createElement("option");
  option.value = key;
  option.textContent = site.meaning;
  $("#site-select").append(option);
}

function editSite(shotId) {
  state.editing = shotId;
  const shot = state.shots.find((s) => s.id === shotId);
  const current = shot && shot.site;
  state.draft = current ? { key: current.key, laterality: current.laterality } : { key: "", laterality: "" };
  setError("#site-error", "");
  renderSite();
  go("site");
}

function renderSite() {
  const { key, laterality } = state.draft;
  $("#site-select").value = key;
  for (const radio of document.querySelectorAll("input[name=laterality]")) {
    radio.checked = radio.value === laterality;
    radio.disabled = key && SITES[key].paired && radio.value === "U";
  }
  drawBodyMap($("#body-map"), state.view, state.draft, (picked) => {
    state.draft = picked;
    renderSite();
    announce(`${siteLabel({ meaning: SITES[picked.key].meaning, laterality: picked.laterality })} selected`);
  });
  $("#view-front").setAttribute("aria-pressed", String(state.view === "front"));
  $("#view-back").setAttribute("aria-pressed", String(state.view === "back"));
}

for (const view of ["front", "back"]) {
  $(`#view-${view}`).addEventListener("click", () => {
    state.view = view;
    renderSite();
  });
}

$("#site-select").addEventListener("change", (event) => {
  const key = event.target.value;
  const keep = state.draft.laterality;
  state.draft = { key, laterality: key && SITES[key].paired ? (["R", "L", "B"].includes(keep) ? keep : "") : keep || "U" };
  renderSite();
});

for (const radio of document.querySelectorAll("input[name=laterality]")) {
  radio.addEventListener("change", () => {
    state.draft.laterality = radio.value;
    renderSite();
  });
}

$("#site-done").addEventListener("click", () => {
  const { key, laterality } = state.draft;
  if (!key) return setError("#site-error", "Tap the body map or choose a site from the list.");
  const site = SITES[key];
  if (site.paired && !["R", "L", "B"].includes(laterality)) return setError("#site-error", `Say which side: ${site.meaning} has a right and a left.`);
  const shot = state.shots.find((s) => s.id === state.editing);
  if (shot) shot.site = { key, code: site.code, meaning: site.meaning, laterality: laterality || "U" };
  renderShots();
  go("capture");
});

// ---- note, consent, send ------------------------------------------------------------

$("#note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const note = clean($("#note").value);
  const consent = CONSENT[$("#consent").checked];
  const description = note ? `${note} ${consent}` : consent;
  const operator = session() ? session().username : null;
  const shots = state.shots;
  const banner = `${personName(state.patient.name) || state.patient.id}`;
  for (const [index, shot] of shots.entries()) {
    const context = {
      patient: state.patient,
      specialty: state.specialty,
      operator,
      captured_at: isoWithOffset(shot.takenAt),
      description,
    };
    if (state.link && state.link.order) {
      const order = state.link.order;
      context.order = {
        accession_number: order.accession_number || null,
        issuer: order.issuer || null,
        service_request: order.id || null,
        study_instance_uid: order.study_instance_uid || null,
      };
    }
    if (state.link && state.link.encounter) {
      context.encounter = { id: state.link.encounter.identifier || state.link.encounter.id, issuer: state.link.encounter.issuer || null };
    }
    if (shot.site) context.body_site = { code: shot.site.code, meaning: shot.site.meaning, laterality: shot.site.laterality };
    const extension = (shot.file.name.match(/\.[A-Za-z0-9]{1,5}$/) || [shot.kind === "video" ? ".mp4" : ".jpg"])[0].toLowerCase();
    const kindWord = shot.kind === "video" ? "Video" : "Photo";
    await queueAdd({
      file: shot.file,
      // A file name that says nothing about the patient.
      filename: `capture-${shot.takenAt.getTime()}-${index + 1}${extension}`,
      type: shot.file.type,
      context,
      label: `${banner} · ${kindWord} ${index + 1}${shot.site ? ` · ${siteLabel(shot.site)}` : ""}`,
    });
  }
  resetPatient();
  announce(`${shots.length} capture(s) queued for sending`);
  go("queue");
});

// ---- uploads --------------------------------------------------------------------

$("#show-queue").addEventListener("click", () => go("queue"));
$("#new-patient").addEventListener("click", startPatient);

queueSubscribe((items) => {
  const pending = items.filter((item) => !item.confirmed).length;
  $("#queue-count").textContent = pending ? `(${pending})` : "";
  const list = $("#queue-list");
  list.replaceChildren();
  if (!items.length) {
    const empty = document.createElement("li");
    empty.textContent = "Nothing waiting to be sent.";
    list.append(empty);
  }
  for (const item of items) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const { text, tone } = describe(item);
    li.className = tone;
    li.dataset.state = item.confirmed ? item.status : item.state;
    const label = document.createElement("strong");
    label.textContent = item.label;
    const stateText = document.createElement("span");
    stateText.className = "state";
    stateText.textContent = text;
    li.append(label, stateText);
    if (!item.confirmed && (item.state === "uploading" || item.progress > 0)) {
      const progress = document.createElement("progress");
      progress.max = 100;
      progress.value = Math.round((item.progress || 0) * 100);
      progress.setAttribute("aria-label", `Upload of ${item.label}`);
      li.append(progress);
    }
    if (item.reason && (item.state === "refused" || ATTENTION.has(item.status))) {
      const reason = document.createElement("p");
      reason.className = "reason";
      reason.textContent = item.reason;
      li.append(reason);
    }
    if (item.state === "refused" && !item.confirmed) {
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary";
      discard.textContent = "Discard";
      discard.addEventListener("click", () => queueDiscard(item.id));
      li.append(discard);
    }
    list.append(li);
  }
});

function describe(item) {
  if (item.confirmed) {
    if (DONE.has(item.status)) return { text: STATUS_WORDS.archived, tone: "done" };
    if (ATTENTION.has(item.status)) return { text: STATUS_WORDS[item.status], tone: "attention" };
    return { text: STATUS_WORDS[item.status] || `At the hub: ${item.status}`, tone: "done" };
  }
  switch (item.state) {
    case "uploading":
      return { text: `Sending… ${Math.round((item.progress || 0) * 100)}%`, tone: "" };
    case "confirming":
      return { text: "Sent; waiting for the hub to confirm", tone: "" };
    case "waiting":
      return { text: item.note || "Waiting to send", tone: "waiting" };
    case "refused":
      return { text: "Needs attention: the hub refused it", tone: "attention" };
    default:
      return { text: "Waiting to send", tone: "waiting" };
  }
}

// ---- network ---------------------------------------------------------------------

function renderNetwork() {
  const pill = $("#network");
  // Only the exception is shown: a phone is normally online.
  pill.textContent = navigator.onLine ? "" : "Offline";
  pill.hidden = navigator.onLine;
}
addEventListener("online", () => {
  renderNetwork();
  announce("Back online: sending waiting captures");
});
addEventListener("offline", () => {
  renderNetwork();
  announce("Offline: captures wait on this phone, encrypted, until the network returns");
});
renderNetwork();

// ---- helpers -----------------------------------------------------------------------

function personName(pn) {
  if (!pn) return "";
  const [family, given, middle] = pn.split("=")[0].split("^");
  return [family, [given, middle].filter(Boolean).join(" ")].filter(Boolean).join(", ");
}

function formatDate(value) {
  if (!value) return "";
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: value.length === 10 ? "UTC" : undefined });
}

/** ISO 8601 with the phone's UTC offset, as the capture context requires. */
function isoWithOffset(date) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

/** One line, no backslash: what DICOM LO accepts. */
function clean(text) {
  return text.replace(/[\\\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
}

// ---- start -------------------------------------------------------------------------

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((error) => console.warn("service worker not registered", error));
}

if (session()) {
  queueStart().then(startPatient, startPatient);
} else {
  go("signin");
}
