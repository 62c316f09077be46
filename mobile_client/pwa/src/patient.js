// The patient: wristband scan or MRN, confirmation by name and birth date,
// then the order or encounter the captures belong to.
import { encountersFor, ordersFor, patientsFind } from "./api.js";
import { scanStart } from "./scanner.js";
import { renderShots, resetShots } from "./shots.js";
import { $, announce, clean, formatDate, go, onScreenChange, personName, setError, state } from "./ui.js";

onScreenChange((name) => {
  if (name !== "patient") scanStop();
});

// ---- patient -------------------------------------------------------------------

export function startPatient() {
  resetPatient();
  go("patient");
}

export function resetPatient() {
  resetShots();
  Object.assign(state, { patient: null, candidates: [], link: null });
  $("#mrn").value = "";
  $("#manual-form").reset();
  $("#confirm-list").replaceChildren();
  for (const banner of document.querySelectorAll("[data-patient-banner]")) banner.textContent = "";
  setError("#patient-error", "");
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
    button.setAttribute("aria-label", `Yes, this is ${name.textContent}, born ${formatDate(patient.birth_date)}`);
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
