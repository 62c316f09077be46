// The capture app: sign in, then patient, order or encounter, photos, body site, send.
import { session, sessionForget, signIn } from "./api.js";
import { resetPatient, startPatient } from "./patient.js";
import { queuePending, queueStart, queueStop } from "./queue.js";
import { onSent } from "./shots.js";
import { $, announce, go, setError } from "./ui.js";
import "./uploads.js";

onSent(() => {
  resetPatient();
  go("queue");
});
$("#show-queue").addEventListener("click", () => go("queue"));
$("#new-patient").addEventListener("click", startPatient);

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

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((error) => console.warn("service worker not registered", error));
}

if (session()) {
  queueStart().then(startPatient, startPatient);
} else {
  go("signin");
}
