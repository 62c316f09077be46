// The patient: wristband scan or MRN, confirmation by name and birth date,
// then the order or encounter the captures belong to.
import { encountersFor, ordersFor, patientsFind } from "./api.js";
import { cameraProblem } from "./camera.js";
import { draftsOffer } from "./drafts.js";
import { scanStart } from "./scanner.js";
import { renderShots, resetShots, restoreShots, shotsResync } from "./shots.js";
import { sittingStart } from "./sitting.js";
import { $, announce, clean, formatDate, go, onScreenChange, personName, setError, showPatientBanner, state } from "./ui.js";

onScreenChange((name) => {
  if (name !== "patient") scanStop();
});

// ---- patient -------------------------------------------------------------------

/** The patient screen, with the sittings whose photos are not sent yet (drafts). */
export function startPatient() {
  resetPatient();
  go("patient");
  return draftsOffer(resumeSitting);
}

export function resetPatient() {
  resetShots();
  Object.assign(state, { patient: null, sitting: null, candidates: [], link: null });
  $("#mrn").value = "";
  $("#manual-form").reset();
  $("#confirm-list").replaceChildren();
  showPatientBanner();
  setError("#patient-error", "");
}

/** Takes up a sitting whose photos were kept as drafts: its patient, order, specialty, photos. */
async function resumeSitting({ sitting, shots }) {
  Object.assign(state, { sitting, patient: sitting.patient, link: sitting.link, specialty: sitting.specialty || "wound" });
  state.lookup = sitting.verified ? "fhir" : "none";
  $("#specialty").value = state.specialty;
  showPatientBanner();
  restoreShots(shots);
  await renderLinks(sitting.patient.id, sitting.link);
  announce(`${shots.length} capture(s) of ${personName(sitting.patient.name) || sitting.patient.id} taken up again`);
  go("capture");
}

$("#scan-start").addEventListener("click", async () => {
  setError("#patient-error", "");
  const refusal = cameraProblem(null);
  if (refusal) return setError("#patient-error", `${refusal} Type the MRN instead.`);
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
    setError("#patient-error", `${cameraProblem(error)} Or type the MRN instead.`);
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
    // The hub has no EMR: the user types the demographics from the wristband.
    if (error.code === "emr_not_configured") return manualEntry(mrn);
    // No single active patient has this MRN. Never fall back to typed details
    // then: that is how a photo lands on the wrong patient.
    if (error.code === "patient_not_found") return setError("#patient-error", `No single active patient has the MRN ${mrn}. Check the wristband.`);
    const later = error.retryable ? " Try again in a moment." : "";
    return setError("#patient-error", `${error.message}${error.message.endsWith(".") ? "" : "."}${later}`);
  }
  state.lookup = "fhir";
  $("#confirm-list").replaceChildren();
  $("#manual-form").hidden = true;
  $("#confirm-hint").hidden = false;
  $("#confirm-back").hidden = false;
  $("#confirm-title").textContent = "Is this the patient?";
  const results = body.results || [];
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
    button.setAttribute("aria-label", `Yes, this is the patient: ${name.textContent}, born ${formatDate(patient.birth_date)}`);
    button.addEventListener("click", () => patientConfirmed(results[index]));
    card.append(name, facts, button);
    $("#confirm-list").append(card);
  });
  go("confirm");
}

function manualEntry(mrn) {
  state.lookup = "none";
  $("#confirm-list").replaceChildren();
  $("#manual-form").hidden = false;
  // Nothing is shown to check against the wristband: the nurse types from it.
  $("#confirm-hint").hidden = true;
  $("#confirm-back").hidden = true;
  $("#confirm-title").textContent = "Patient details";
  $("#manual-mrn").textContent = mrn;
  state.candidates = [{ identifier: mrn, issuer: null }];
  go("confirm");
}

$("#confirm-back").addEventListener("click", startPatient);

$("#manual-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const family = clean($("#family").value);
  const given = clean($("#given").value);
  const birth = $("#birth").value;
  const problems = [
    ["#family-error", "#family", !family ? "Type the family name from the wristband." : /[\^=]/.test(family) ? "Names cannot contain ^ or =." : ""],
    ["#birth-error", "#birth", birth ? "" : "Type the birth date from the wristband: without an EMR it is the second identifier, needed to send."],
  ];
  if (/[\^=]/.test(given)) problems.push(["#manual-error", "#given", "Names cannot contain ^ or =."]);
  else setError("#manual-error", "", "#given");
  for (const [error, field, text] of problems) setError(error, text, field);
  const first = problems.find(([, , text]) => text);
  if (first) return $(first[1]).focus();
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
  sittingStart(state.patient, { verified: state.lookup !== "none" });
  showPatientBanner();
  setError("#link-error", "", "#link-fieldset");
  await renderLinks(patient.identifier);
  go("context");
}

// ---- order or encounter ------------------------------------------------------

/** The choices of the context screen; `chosen` (a resumed sitting's link) is checked again. */
async function renderLinks(identifier, chosen = undefined) {
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
  if (chosen !== undefined) {
    const same = (a, b) => JSON.stringify(a || null) === JSON.stringify(b || null);
    for (const input of only) if (same(state.links[input.value], chosen)) input.checked = true;
  }
  for (const input of only) input.addEventListener("change", () => setError("#link-error", "", "#link-fieldset"));
}

$("#context-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = document.querySelector("input[name=link]:checked");
  if (!chosen) {
    setError("#link-error", "Choose an order, an encounter, or \"No order or encounter\".", "#link-fieldset");
    document.querySelector("input[name=link]").focus();
    return;
  }
  setError("#link-error", "", "#link-fieldset");
  state.link = state.links[chosen.value];
  state.specialty = $("#specialty").value;
  Object.assign(state.sitting, { link: state.link, specialty: state.specialty });
  // Photos taken before a Back to this screen follow the new choice.
  shotsResync().catch((error) => console.warn("drafts not updated", error));
  renderShots();
  go("capture");
});
