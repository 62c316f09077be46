// The capture app: sign in, then patient, order or encounter, photos, body site, send.
import { session, sessionForget, signIn } from "./api.js";
import { insecureReason } from "./camera.js";
import { draftsLoad } from "./drafts.js";
import { resetPatient, startPatient } from "./patient.js";
import { queuePending, queueStart, queueStop } from "./queue.js";
import { onSent } from "./review.js";
import { $, announce, go, setError, state } from "./ui.js";
import "./uploads.js";

onSent(() => {
  resetPatient();
  go("queue");
});
$("#show-queue").addEventListener("click", () => go("queue"));
$("#new-patient").addEventListener("click", startPatient);

// Back, on every step of a sitting. Leaving the patient keeps the photos as drafts.
for (const button of document.querySelectorAll("[data-back]")) {
  button.addEventListener("click", () => {
    const to = button.closest("#screen-site") ? state.siteReturn || "capture" : button.dataset.back;
    if (button.closest("#screen-site")) state.siteReturn = null;
    if (to === "patient") startPatient();
    else go(to);
  });
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
    return setError("#signin-error", error.code === "credentials_invalid" ? "User name or password is wrong." : error.message);
  }
  $("#password").value = "";
  await queueStart();
  startPatient();
});

$("#sign-out").addEventListener("click", async () => {
  const pending = queuePending();
  const drafts = (await draftsLoad()).reduce((n, group) => n + group.shots.length, 0);
  const waiting = [pending && `${pending} capture(s) are not at the hub yet; they are sent after the next sign-in`, drafts && `${drafts} photo(s) were taken but not sent; they are offered after the next sign-in`].filter(Boolean);
  if (waiting.length && !confirm(`${waiting.join(". ")}. They stay encrypted on this phone. Signing out ends the shift: the list of what was sent is cleared. Sign out?`)) return;
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

// ---- start -------------------------------------------------------------------------

const insecure = insecureReason();
if ("serviceWorker" in navigator && !insecure) {
  navigator.serviceWorker.register("sw.js").catch((error) => console.warn("service worker not registered", error));
}

if (insecure) {
  // No camera, no WebCrypto, no service worker here: refuse rather than lose photos.
  $("#insecure-text").textContent = insecure;
  go("insecure");
} else if (session()) {
  queueStart().then(startPatient, startPatient);
} else {
  go("signin");
}
