// Why the camera cannot be used, in words a nurse can act on. Browsers give the
// camera (getUserMedia), WebCrypto and service workers to secure contexts only:
// HTTPS, or localhost in development.

/** The app's own address is not a secure context: the sentence that says so, else null. */
export function insecureReason() {
  if (globalThis.isSecureContext) return null;
  return `This page was opened over plain HTTP (${location.origin}). The camera, the encrypted store for photos and offline use need a secure connection (HTTPS), so the app will not start here.`;
}

/**
 * What to tell the nurse when the camera cannot start: `error` is what getUserMedia
 * threw (null: before trying). Null when there is nothing to say.
 */
export function cameraProblem(error) {
  const insecure = insecureReason();
  if (insecure) return insecure;
  if (!error) return navigator.mediaDevices ? null : "This browser gives the app no camera.";
  switch (error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return (
        "The camera is blocked for this app. To allow it: tap the lock (or camera) icon next to the address, " +
        "open Permissions or Site settings, set Camera to Allow, then reload the page. " +
        "On an iPhone: Settings › Safari › Camera › Allow."
      );
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found on this device.";
    case "NotReadableError":
    case "AbortError":
      return "The camera is in use by another app, or did not start. Close the other app and try again.";
    default:
      return `The camera did not start (${error.message || error.name}).`;
  }
}
