// What every screen shares: the state of the patient being captured, moving
// between screens, announcing to screen readers, and formatting.
import { session } from "./api.js";

export const $ = (selector) => document.querySelector(selector);
export const state = { patient: null, sitting: null, candidates: [], link: null, specialty: "wound", shots: [], editing: null, view: "front", zoom: null, stopScan: null };
const leaving = new Set();

/** Calls `hook(name)` before every change of screen (to stop the camera, say). */
export function onScreenChange(hook) {
  leaving.add(hook);
}

// ---- screens ---------------------------------------------------------------

export function go(name) {
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  const signedIn = Boolean(session());
  $("#sign-out").hidden = !signedIn;
  $("#show-queue").hidden = !signedIn || name === "queue";
  for (const hook of leaving) hook(name);
  const heading = $(`#screen-${name} h1`);
  document.title = `${heading.textContent} · Clinical capture`;
  heading.focus();
  window.scrollTo(0, 0);
}

export function announce(text) {
  $("#announce").textContent = text;
}

/**
 * Shows `text` in the error element `id` (empty clears it). With `field`, the field
 * that caused it is marked invalid and described by the error, so a screen reader
 * reads the reason with the field.
 */
export function setError(id, text, field = null) {
  const element = $(id);
  element.textContent = text || "";
  if (field) {
    const target = typeof field === "string" ? $(field) : field;
    if (text) {
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", element.id);
    } else {
      target.removeAttribute("aria-invalid");
      target.removeAttribute("aria-describedby");
    }
  }
}

/** The patient of the sitting on every screen of it; unverified identities say so. */
export function showPatientBanner() {
  const patient = state.patient;
  let text = "";
  if (patient) {
    text = `${personName(patient.name) || "Unnamed"} · born ${formatDate(patient.birth_date) || "?"} · ${patient.id}`;
    if (state.sitting && !state.sitting.verified) text += " · identity not checked against an EMR";
  }
  for (const banner of document.querySelectorAll("[data-patient-banner]")) banner.textContent = text;
}

// ---- helpers -----------------------------------------------------------------------

export function personName(pn) {
  if (!pn) return "";
  const [family, given, middle] = pn.split("=")[0].split("^");
  return [family, [given, middle].filter(Boolean).join(" ")].filter(Boolean).join(", ");
}

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: value.length === 10 ? "UTC" : undefined });
}

export function formatTime(date) {
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** ISO 8601 with the phone's UTC offset, as the capture context requires. */
export function isoWithOffset(date) {
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
export function clean(text) {
  return text.replace(/[\\\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
}
