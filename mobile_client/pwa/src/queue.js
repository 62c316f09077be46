// The upload queue: each capture is sealed in the vault, sent with tus (resumable),
// and its media deleted from the phone as soon as the hub says a capture exists for
// the upload. What is left is one line in "sent this shift" (sealed: it names the
// patient) and the capture's state at the hub, until the shift ends.

import { ApiError, apiErrorOf, authHeaders, captureGet, capturesForUpload } from "./api.js";
import { vaultDelete, vaultFile, vaultList, vaultMeta, vaultMove, vaultShredIfEmpty, vaultUpdate } from "./vault.js";

// Each PATCH is a resume point: 1 MiB loses little on a dropped mobile link.
const CHUNK_SIZE = 1024 * 1024;
const BACKOFF_MAX_MS = 60_000;
const POLL_MAX_MS = 15_000;
const POLL_GIVE_UP_MS = 15 * 60_000;
// A shift: what was sent is listed until sign-out, and never longer than this.
export const SHIFT_MS = 12 * 60 * 60_000;
const DONE = new Set(["archived"]);
const ATTENTION = new Set(["rejected", "failed"]);

const view = new Map(); // id -> what the screen shows; never persisted
const listeners = new Set();
let pumping = false;
let again = false;
let retryTimer = null;
let attempts = 0;
let retryAfterMs = 0; // the longest Retry-After of this round's transient failures
let stopped = true;

export function queueSubscribe(listener) {
  listeners.add(listener);
  listener(queueView());
}

export function queueView() {
  return [...view.values()].sort((a, b) => a.createdAt - b.createdAt);
}

function show(id, changes) {
  view.set(id, { ...(view.get(id) || { id }), ...changes });
  for (const listener of listeners) listener(queueView());
}

/**
 * Moves a draft (drafts.js) into the queue and starts sending: its sealed media goes
 * along unopened, `meta` ({filename, type, context, label}) is sealed anew.
 */
export async function queueFromDraft(id, meta, size) {
  const createdAt = Date.now();
  await vaultMove("drafts", "items", id, { meta, plain: { createdAt, size, uploadUrl: null }, keepBody: true });
  show(id, { createdAt, label: meta.label, state: "queued", progress: 0 });
}

async function labelOf(record) {
  try {
    return await vaultMeta(record);
  } catch {
    return { label: "Capture (cannot be read on this device)" };
  }
}

/** Loads what a previous run left (the queue, and what was sent this shift), and sends. */
export async function queueStart() {
  stopped = false;
  for (const record of await vaultList("items")) {
    if (view.has(record.id)) continue;
    show(record.id, { createdAt: record.createdAt, label: (await labelOf(record)).label, state: "queued", progress: 0 });
  }
  await shiftPurge();
  for (const record of await vaultList("sent")) {
    if (view.has(record.id)) continue;
    const { label, captureId } = await labelOf(record);
    show(record.id, { createdAt: record.createdAt, sentAt: record.sentAt, label, confirmed: true, captureId, status: record.status, reason: "", state: "stored" });
    if (captureId && !DONE.has(record.status) && !ATTENTION.has(record.status)) follow(record.id, captureId);
  }
  clearInterval(shiftTimer);
  shiftTimer = setInterval(shiftPurge, 60_000);
  queueKick();
}

let shiftTimer = null;

/** Forgets what was sent before this shift (SHIFT_MS ago); the key goes when nothing is left. */
async function shiftPurge() {
  const oldest = Date.now() - SHIFT_MS;
  for (const record of await vaultList("sent")) {
    if (record.sentAt >= oldest) continue;
    await vaultDelete("sent", record.id);
    view.delete(record.id);
  }
  for (const listener of listeners) listener(queueView());
  await vaultShredIfEmpty();
}

/** Sign-out ends the shift: stops sending, forgets what was sent, shreds the key when nothing is left. */
export async function queueStop() {
  stopped = true;
  clearTimeout(retryTimer);
  clearInterval(shiftTimer);
  for (const record of await vaultList("sent")) await vaultDelete("sent", record.id);
  for (const [id, item] of view) if (item.confirmed) view.delete(id);
  for (const listener of listeners) listener(queueView());
  return vaultShredIfEmpty();
}

export async function queueDiscard(id) {
  await vaultDelete("items", id);
  view.delete(id);
  for (const listener of listeners) listener(queueView());
  await vaultShredIfEmpty();
}

export function queuePending() {
  return queueView().filter((item) => !item.confirmed).length;
}

export function queueKick() {
  clearTimeout(retryTimer);
  if (stopped) return;
  if (pumping) {
    again = true;
    return;
  }
  pump();
}

globalThis.addEventListener("online", () => {
  attempts = 0;
  retryAfterMs = 0;
  queueKick();
});

async function pump() {
  pumping = true;
  let transient = false;
  try {
    for (const record of (await vaultList("items")).sort((a, b) => a.createdAt - b.createdAt)) {
      if (stopped) break;
      const item = view.get(record.id);
      if (item && (item.confirmed || item.state === "refused")) continue;
      if (!navigator.onLine) {
        show(record.id, { state: "waiting", note: "Waiting for the network" });
        transient = true;
        continue;
      }
      const outcome = await send(record);
      if (outcome === "transient") transient = true;
      if (outcome === "signin") break;
    }
  } finally {
    pumping = false;
  }
  if (again) {
    again = false;
    return pump();
  }
  if (transient && !stopped) {
    // Exponential backoff with jitter, never sooner than the hub's Retry-After;
    // the online event cuts it short.
    const backoff = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** attempts) * (0.75 + Math.random() / 2);
    const delay = Math.max(backoff, retryAfterMs);
    attempts++;
    retryAfterMs = 0;
    retryTimer = setTimeout(queueKick, delay);
  } else {
    attempts = 0;
    retryAfterMs = 0;
  }
}

async function send(record) {
  let meta;
  let file;
  try {
    meta = await vaultMeta(record);
    file = await vaultFile(record, meta.type);
  } catch {
    show(record.id, { state: "refused", reason: "This capture cannot be decrypted on this device; discard it." });
    return "permanent";
  }
  show(record.id, { state: "uploading", note: "" });
  const result = await new Promise((resolve) => {
    const upload = new globalThis.tus.Upload(file, {
      endpoint: new URL("/api/v1/uploads/", location.href).href,
      uploadUrl: record.uploadUrl || null,
      chunkSize: CHUNK_SIZE,
      retryDelays: [0, 1000, 3000],
      // tus-js-client's own quick retries follow the envelope too; 401 waits for a sign-in.
      onShouldRetry: (error) => {
        const problem = problemOf(error);
        return problem.retryable && problem.status !== 401 && navigator.onLine;
      },
      uploadDataDuringCreation: true,
      // The upload URL lives in the vault record; tus-js-client's own localStorage entries stay off.
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      metadata: { filename: meta.filename, context: JSON.stringify(meta.context) },
      headers: authHeaders(),
      onUploadUrlAvailable: () => vaultUpdate("items", record.id, { uploadUrl: upload.url }),
      onProgress: (sent, total) => show(record.id, { progress: total ? sent / total : 0 }),
      onSuccess: () => resolve({ url: upload.url }),
      onError: (error) => resolve({ error }),
    });
    upload.start();
  });
  if (result.error) return failed(record, result.error);
  return confirm(record, meta, result.url);
}

/** A tus-js-client error (or an API call's) as the hub's envelope describes it. */
function problemOf(error) {
  if (error instanceof ApiError) return error;
  const response = error.originalResponse;
  return response ? apiErrorOf(response.getStatus(), response.getBody(), response.getHeader("Retry-After")) : apiErrorOf(0);
}

/** What a failed send means for the capture, decided by the hub's envelope (apiErrorOf). */
function failed(record, error) {
  const problem = problemOf(error);
  if (problem.status === 401) {
    show(record.id, { state: "waiting", note: "Sign in again to send" });
    globalThis.dispatchEvent(new CustomEvent("capture:signin-needed"));
    return "signin";
  }
  if (!problem.retryable) {
    const reason = problem.field && problem.code ? `${problem.field}: ${problem.message}` : problem.message;
    show(record.id, { state: "refused", reason: reason || `The hub refused this capture (${problem.status}).` });
    return "permanent";
  }
  if (problem.retryAfter !== null) retryAfterMs = Math.max(retryAfterMs, problem.retryAfter * 1000);
  show(record.id, {
    state: "waiting",
    note: navigator.onLine ? "The hub did not answer; trying again soon" : "Waiting for the network",
  });
  return "transient";
}

async function confirm(record, meta, url) {
  const uploadId = new URL(url, location.href).pathname.split("/").filter(Boolean).pop();
  show(record.id, { state: "confirming", progress: 1 });
  for (let i = 0; i < 5; i++) {
    try {
      const body = await capturesForUpload(uploadId);
      const capture = body && body.results && body.results[0];
      if (capture) {
        // The hub holds the original durably: the media leaves the phone; the line
        // in "sent this shift" stays, sealed, until the shift ends.
        const sentAt = Date.now();
        await vaultMove("items", "sent", record.id, {
          meta: { label: meta.label, captureId: capture.id },
          plain: { createdAt: record.createdAt, sentAt, status: capture.status },
          keepBody: false,
        });
        show(record.id, { confirmed: true, sentAt, captureId: capture.id, status: capture.status, reason: capture.reason || "", state: "stored" });
        follow(record.id, capture.id);
        return "done";
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return failed(record, error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * (i + 1)));
  }
  show(record.id, { state: "waiting", note: "Waiting for the hub to confirm" });
  return "transient";
}

async function follow(id, captureId) {
  const started = Date.now();
  let delay = 1000;
  while (Date.now() - started < POLL_GIVE_UP_MS && view.has(id)) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(POLL_MAX_MS, delay * 1.5);
    try {
      const capture = await captureGet(captureId);
      if (capture.status !== view.get(id)?.status) await vaultUpdate("sent", id, { status: capture.status });
      show(id, { status: capture.status, reason: capture.reason || "" });
      if (DONE.has(capture.status) || ATTENTION.has(capture.status)) return;
    } catch (error) {
      if (error instanceof ApiError && error.permanent) return;
    }
  }
}

export const STATUS_WORDS = {
  received: "Received by the hub",
  inspected: "Checked by the hub",
  matched: "Matched to the order",
  unmatched: "At the hub: waiting for an operator to match it",
  encapsulated: "Prepared for the archive",
  delivering: "Being delivered to the archive",
  archived: "Archived",
  rejected: "Needs attention: the hub could not use it",
  failed: "Needs attention: delivery to the archive failed",
};
export { DONE, ATTENTION };
