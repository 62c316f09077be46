// The review screen: every photo of the sitting with its body site and its own note,
// the patient, the order or encounter, consent; then Send moves the drafts into the
// upload queue, each with its capture context (docs/capture-context.md).
import { siteLabel } from "./bodysites.js";
import { draftUpdate } from "./drafts.js";
import { queueFromDraft, queueKick } from "./queue.js";
import { SITE_REQUIRED, editSite } from "./shots.js";
import { sittingSession } from "./sitting.js";
import { $, announce, clean, go, isoWithOffset, onScreenChange, personName, setError, state } from "./ui.js";
import { woundContext } from "./wounds.js";

// DICOM LO (Series Description) holds 64 characters.
const NOTE_MAX = 64;
const SESSION_WAIT_MS = 8000;
let afterSend = () => {};

/** What to do once the captures are queued (the app shows the uploads). */
export function onSent(callback) {
  afterSend = callback;
}

onScreenChange((name) => {
  if (name === "review") renderReview();
});

function linkText() {
  const link = state.link;
  if (link && link.order) return `For order ${link.order.accession_number || link.order.id}${link.order.description ? `: ${link.order.description}` : ""}`;
  if (link && link.encounter) return `For the encounter ${link.encounter.identifier || link.encounter.id}`;
  return "No order or encounter";
}

function renderReview() {
  $("#review-link").textContent = `${linkText()} · ${$("#specialty").selectedOptions[0]?.textContent || state.specialty}`;
  setError("#review-error", "");
  const list = $("#review-list");
  list.replaceChildren();
  state.shots.forEach((shot, index) => {
    const word = `${shot.kind === "video" ? "Video" : "Photo"} ${index + 1}`;
    const item = document.createElement("li");
    item.className = "card shot";
    item.dataset.id = shot.id;
    const preview = document.createElement(shot.kind === "video" ? "video" : "img");
    preview.src = shot.url;
    if (shot.kind === "video") {
      preview.muted = true;
      preview.setAttribute("aria-label", word);
    } else {
      preview.alt = word;
    }
    const body = document.createElement("div");
    body.className = "body";
    const title = document.createElement("strong");
    title.textContent = word;
    const site = document.createElement("span");
    site.className = shot.site ? "site" : "site missing";
    site.textContent = shot.site ? siteLabel(shot.site) : "No body site";
    const change = document.createElement("button");
    change.type = "button";
    change.textContent = "Change site";
    change.setAttribute("aria-label", `Change site of ${word}`);
    change.addEventListener("click", () => {
      state.siteReturn = "review";
      editSite(shot.id);
    });
    const error = document.createElement("p");
    error.className = "error";
    error.id = `review-site-error-${shot.id}`;
    const noteId = `note-${shot.id}`;
    const label = document.createElement("label");
    label.htmlFor = noteId;
    label.textContent = `Note for ${word.toLowerCase()} (optional)`;
    const note = document.createElement("input");
    note.id = noteId;
    note.maxLength = NOTE_MAX;
    note.autocomplete = "off";
    note.value = shot.note || "";
    note.addEventListener("change", () => {
      shot.note = clean(note.value);
      draftUpdate(shot, state.sitting).catch((failure) => console.warn("draft not updated", failure));
    });
    body.append(title, site, change, error, label, note);
    item.append(preview, body);
    list.append(item);
  });
}

$("#review-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const shots = state.shots;
  if (!shots.length) return setError("#review-error", "Nothing to send: take a photo first.");
  let missing = null;
  for (const shot of shots) {
    const error = `#review-site-error-${shot.id}`;
    const lacks = SITE_REQUIRED.has(state.specialty) && !shot.site;
    setError(error, lacks ? "Choose the body site of this photo: it is needed for this specialty." : "");
    if (lacks && !missing) missing = shot;
  }
  if (missing) {
    setError("#review-error", "Some photos have no body site yet.");
    return $(`#review-list li[data-id="${missing.id}"] button`).focus();
  }
  for (const shot of shots) shot.note = clean($(`#note-${shot.id}`).value);
  const button = event.submitter || $("#review-form button[type=submit]");
  button.disabled = true;
  try {
    await send(shots);
  } catch (error) {
    return setError("#review-error", `Not queued: ${error.message}. The photos are still on this phone; try again.`);
  } finally {
    button.disabled = false;
  }
  announce(`${shots.length} capture(s) queued for sending`);
  afterSend();
});

async function send(shots) {
  // Unchecked means "not recorded", not a refusal: the box asks for a yes.
  const consent = $("#consent").checked ? true : null;
  const sitting = state.sitting;
  // A slow network must not hold the photos back: after a few seconds they go without.
  const session = await Promise.race([sittingSession(), new Promise((resolve) => setTimeout(resolve, SESSION_WAIT_MS, null))]);
  const who = personName(state.patient.name) || state.patient.id;
  for (const [index, shot] of shots.entries()) {
    const context = {
      patient: state.patient,
      specialty: state.specialty,
      operator: sitting.operator,
      captured_at: isoWithOffset(shot.takenAt),
      description: shot.note || null,
      consent,
    };
    if (session) context.session = session;
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
    const word = shot.kind === "video" ? "Video" : "Photo";
    await queueFromDraft(
      shot.id,
      {
        // A file name that says nothing about the patient.
        filename: `capture-${shot.takenAt.getTime()}-${index + 1}${extension}`,
        type: shot.file.type,
        context,
        label: `${who} · ${word} ${index + 1}${shot.site ? ` · ${siteLabel(shot.site)}` : ""}`,
      },
      shot.file.size,
    );
  }
  queueKick();
}
