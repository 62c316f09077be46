// Photos and videos of one sitting: the camera, the quality check, the body site.
// Each shot is a draft in the vault from the moment it is taken (drafts.js); the
// review screen (review.js) sends them.
import { SITES, drawBodyMap, regionOf, siteLabel } from "./bodysites.js";
import { draftDiscard, draftSave, draftUpdate } from "./drafts.js";
import { photoQuality } from "./quality.js";
import { $, announce, go, setError, state } from "./ui.js";
import { woundPanel } from "./wounds.js";

// Specialties whose captures are of the body surface: a body site is required.
export const SITE_REQUIRED = new Set(["wound", "burn", "dermatology", "dermoscopy"]);

/** Forgets the shots in memory; their drafts stay in the vault until sent or discarded. */
export function resetShots() {
  for (const shot of state.shots) if (shot.url) URL.revokeObjectURL(shot.url);
  state.shots = [];
  state.editing = null;
  $("#consent").checked = false;
  renderShots();
}

/** Takes up the shots of a resumed sitting (drafts.js). */
export function restoreShots(shots) {
  resetShots();
  state.shots = shots.map((shot) => ({ ...shot, url: URL.createObjectURL(shot.file) }));
  renderShots();
}

/** Reseals every draft of the sitting after the sitting changed (order, specialty, session). */
export async function shotsResync() {
  for (const shot of state.shots) await draftUpdate(shot, state.sitting);
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
  const shot = { id: crypto.randomUUID(), file, kind, url: URL.createObjectURL(file), takenAt: new Date(), site: lastSite(), note: "", kept: false };
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
  try {
    await draftSave(shot, state.sitting);
  } catch (error) {
    URL.revokeObjectURL(shot.url);
    return setError("#capture-error", `This photo could not be kept on the phone (${error.message}). Free some space and take it again.`);
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
    site.id = `shot-site-${shot.id}`;
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
    remove.addEventListener("click", async () => {
      URL.revokeObjectURL(shot.url);
      state.shots = state.shots.filter((other) => other !== shot);
      await draftDiscard(shot.id);
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

$("#capture-done").addEventListener("click", () => go("review"));

// ---- body site -------------------------------------------------------------------

for (const [key, site] of Object.entries(SITES).sort((a, b) => a[1].meaning.localeCompare(b[1].meaning))) {
  const option = document.createElement("option");
  option.value = key;
  option.textContent = site.meaning;
  $("#site-select").append(option);
}

/** Opens the body-site screen for one shot (also from the review screen). */
export function editSite(shotId) {
  state.editing = shotId;
  const shot = state.shots.find((s) => s.id === shotId);
  const current = shot && shot.site;
  state.draft = current ? { key: current.key, laterality: current.laterality } : { key: "", laterality: "" };
  // Straight to the part of the map where the current site is; else the whole body.
  state.zoom = current ? regionOf(current.key, current.laterality) : null;
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
  const where = drawBodyMap($("#body-map"), state.view, state.zoom, state.draft, {
    onPick: (picked) => {
      state.draft = picked;
      renderSite();
      // The map is drawn anew: the keyboard stays on the part just pressed.
      $(`#body-map [data-site="${picked.key}"][data-laterality="${picked.laterality}"]`)?.focus();
      announce(`${siteLabel({ meaning: SITES[picked.key].meaning, laterality: picked.laterality })} selected`);
    },
    onZoom: (region) => {
      state.zoom = region;
      renderSite();
      $("#body-map [role=button]")?.focus();
    },
  });
  $("#map-where").textContent = where;
  $("#map-whole").hidden = !state.zoom;
  $("#view-front").setAttribute("aria-pressed", String(state.view === "front"));
  $("#view-back").setAttribute("aria-pressed", String(state.view === "back"));
}

$("#map-whole").addEventListener("click", () => {
  state.zoom = null;
  renderSite();
  $("#body-map [role=button]")?.focus();
});

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
  if (key) state.zoom = regionOf(key, state.draft.laterality);
  renderSite();
});

for (const radio of document.querySelectorAll("input[name=laterality]")) {
  radio.addEventListener("change", () => {
    state.draft.laterality = radio.value;
    if (state.draft.key && state.zoom) state.zoom = regionOf(state.draft.key, radio.value);
    renderSite();
  });
}

$("#site-done").addEventListener("click", () => {
  const { key, laterality } = state.draft;
  if (!key) return setError("#site-error", "Tap the body map or choose a site from the list.");
  const site = SITES[key];
  if (site.paired && !["R", "L", "B"].includes(laterality)) return setError("#site-error", `Say which side: ${site.meaning} has a right and a left.`);
  const shot = state.shots.find((s) => s.id === state.editing);
  if (shot) {
    shot.site = { key, code: site.code, meaning: site.meaning, laterality: laterality || "U" };
    draftUpdate(shot, state.sitting).catch((error) => console.warn("draft not updated", error));
  }
  renderShots();
  go(state.siteReturn || "capture");
  state.siteReturn = null;
});
