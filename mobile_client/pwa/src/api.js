// The hub's HTTP API, same origin. Every call but sign-in carries the token.

const TOKEN_KEY = "capturehub.session";

export class ApiError extends Error {
  /** `status` 0 means the network failed; `permanent` says whether a retry can help. */
  constructor(message, status) {
    super(message);
    this.status = status;
    this.permanent = status >= 400 && status < 500 && ![401, 408, 423, 429].includes(status);
  }
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
  const body = await request("POST", "/api/v1/auth/token", { username, password }, null);
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
  return request("GET", `/api/v1/patients?identifier=${encodeURIComponent(identifier)}`);
}

export function ordersFor(identifier) {
  return request("GET", `/api/v1/patients/${encodeURIComponent(identifier)}/orders`);
}

export function encountersFor(identifier) {
  return request("GET", `/api/v1/patients/${encodeURIComponent(identifier)}/encounters`);
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
    throw new ApiError("The hub cannot be reached. Check the network.", 0);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(reasonOf(body) || `The hub answered ${response.status}.`, response.status);
  return body;
}

/** DRF errors look like {"detail": "..."} or {"field": ["reason", ...]}: one readable line. */
export function reasonOf(body) {
  if (!body || typeof body !== "object") return "";
  if (typeof body.detail === "string") return body.detail;
  return Object.entries(body)
    .map(([field, reasons]) => `${field}: ${[].concat(reasons).join(" ")}`)
    .join("; ");
}
