// Photos and videos of one patient: the camera, the quality check, the body site,
// and the note and consent with which they are queued.
import { session } from "./api.js";
import { SITES, drawBodyMap, siteLabel } from "./bodysites.js";
import { photoQuality } from "./quality.js";
import { queueAdd } from "./queue.js";
import { $, announce, clean, go, isoWithOffset, personName, setError, state } from "./ui.js";
import { woundContext, woundPanel } from "./wounds.js";

// Specialties whose captures are of the body surface: a body site is required.
const SITE_REQUIRED = new Set(["wound", "burn", "dermatology", "dermoscopy"]);
let afterSend = () => {};

/** What to do once the captures are queued (the app shows the uploads). */
export function onSent(callback) {
  afterSend = callback;
}

export function resetShots() {
  for (const shot of state.shots) URL.revokeObjectURL(shot.url);
  state.shots = [];
  state.editing = null;
  $("#note").value = "";
  $("#consent").checked = false;
  renderShots();
}

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

export function renderShots() {
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
    body.append(woundPanel(shot), row);
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
  // Unchecked means "not recorded", not a refusal: the box asks for a yes.
  const consent = $("#consent").checked ? true : null;
  const description = note || null;
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
      consent,
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
    Object.assign(context, woundContext(shot));
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
  announce(`${shots.length} capture(s) queued for sending`);
  afterSend();
});
