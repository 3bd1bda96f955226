// A real OpenID provider for the OIDC tests: panva's certified `oidc-provider` (installed from
// npm by tests/service/api/oidc_support.py), issuing JWT access tokens by client credentials.
// Usage: OIDC_PROVIDER_ENTRY=<path of oidc-provider's entry file> node oidc_provider.mjs <port>
// Clients (secret "<id>-secret"): each gets the `roles` claim listed in ROLES; `norole` none,
// `expired` tokens that live three seconds. The audience is the requested `resource`.
// POST /_test/rotate replaces the signing key (the old one is no longer published).
import crypto from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(process.env.OIDC_PROVIDER_ENTRY).href);
const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const ROLES = {
  admin: ['radqc-admin'],
  auditor: ['radqc-auditor'],
  reader: ['radqc-reader'],
  ingest: ['radqc-ingest'],
  norole: null,
  expired: ['radqc-reader'],
};
let generation = 1;

function signingKey(n) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `key-${n}`, use: 'sig', alg: 'RS256' };
}

function provider() {
  const made = new Provider(issuer, {
    clients: Object.keys(ROLES).map((id) => ({
      client_id: id,
      client_secret: `${id}-secret`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys: [signingKey(generation)] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://radqc.test/api',
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === 'expired' ? 3 : 600,
        }),
      },
    },
    extraTokenClaims: (ctx, token) => {
      const roles = ROLES[token.clientId];
      return roles ? { roles, preferred_username: token.clientId } : { preferred_username: token.clientId };
    },
  });
  return made.callback();
}

let current = provider();
http
  .createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/_test/rotate') {
      generation += 1;
      current = provider();
      res.end(`key-${generation}`);
      return;
    }
    current(req, res);
  })
  .listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
