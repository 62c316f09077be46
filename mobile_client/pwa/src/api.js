// The hub's HTTP API, same origin. Every call but sign-in carries the token.

const TOKEN_KEY = "capturehub.session";

export class ApiError extends Error {
  /**
   * One failed call, read from the hub's error envelope (docs/api-errors.md).
   * `status` 0 means no answer at all; `code` and `field` are the envelope's;
   * `retryable` says whether the same request may succeed later, not before
   * `retryAfter` seconds when the hub said so.
   */
  constructor(message, { status, code = null, field = null, retryable, retryAfter = null }) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }

  get permanent() {
    return !this.retryable;
  }
}

/**
 * The one retry decision of the app: the hub's envelope says whether a retry can help.
 * No answer at all, or an answer that is not the hub's envelope (a proxy, a captive
 * portal), says nothing about the capture: it is retried.
 */
export function apiErrorOf(status, text, retryAfterHeader = null) {
  if (!status) return new ApiError("The hub cannot be reached. Check the network.", { status: 0, retryable: true });
  let error = null;
  try {
    error = text ? JSON.parse(text).error : null;
  } catch {
    error = null;
  }
  const seconds = Number.parseFloat(retryAfterHeader);
  const retryAfter = Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
  if (!error || typeof error.retryable !== "boolean" || typeof error.code !== "string") {
    return new ApiError(`The hub answered ${status}.`, { status, retryable: true, retryAfter });
  }
  return new ApiError(error.message || `The hub answered ${status}.`, {
    status,
    code: error.code,
    field: error.field ?? null,
    retryable: error.retryable,
    retryAfter,
  });
}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(TOKEN_KEY) || "null");
  } catch {
    return null;
  }
}

export function sessionForget() {
  localStorage.removeItem(TOKEN_KEY);
}

export async function signIn(username, password) {
  // One token per phone: listed by this name, revocable without signing out the others.
  const deviceName = `capture app (${(navigator.userAgent || "browser").slice(0, 90)})`;
  const body = await request(
    "POST",
    "/api/v1/auth/token",
    { username, password, device_name: deviceName },
    null,
  );
  // The user name is kept as the operator of later captures; it names the nurse, not a patient.
  const value = { token: body.token, username };
  localStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  return value;
}

export function authHeaders() {
  const current = session();
  return current ? { Authorization: `Token ${current.token}` } : {};
}

export function patientsFind(identifier) {
  // The MRN travels in the body: no URL, access log or proxy log holds it.
  return request("POST", "/api/v1/patients/search", { identifier });
}

export function ordersFor(identifier) {
  return request("POST", "/api/v1/patients/orders", { identifier });
}

export function encountersFor(identifier) {
  return request("POST", "/api/v1/patients/encounters", { identifier });
}

/**
 * A capture session: what one nurse takes for one patient at one sitting shares one
 * study when no order or encounter gives one. `POST /api/v1/sessions` answers 201
 * with `{"id": ...}`; the captures name it as `context.session`.
 */
export function sessionCreate(patient) {
  return request("POST", "/api/v1/sessions", { patient });
}

export function capturesForUpload(uploadId) {
  return request("GET", `/api/v1/captures?upload=${encodeURIComponent(uploadId)}`);
}

export function captureGet(captureId) {
  return request("GET", `/api/v1/captures/${encodeURIComponent(captureId)}`);
}

async function request(method, url, json, headers = authHeaders()) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: { Accept: "application/json", ...(json ? { "Content-Type": "application/json" } : {}), ...(headers || {}) },
      body: json ? JSON.stringify(json) : undefined,
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw apiErrorOf(0);
  }
  const text = await response.text();
  if (!response.ok) throw apiErrorOf(response.status, text, response.headers.get("Retry-After"));
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
