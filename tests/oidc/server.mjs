// A real OpenID Connect provider for the single sign-on tests (tests/sso.py starts it):
// the certified `oidc-provider` on 127.0.0.1, on a port the system picks, for the clients
// the tests pass in OIDC_CLIENTS (JSON). It prints "READY <issuer>" once it listens.
//
// What a test controls, as a school's identity provider would decide it:
//   - the sign-in page (/interaction/<uid>) takes any email address, whether the provider
//     has verified it ("verified") and whether the person used a second factor ("mfa",
//     which puts "mfa" in the ID token's amr claim, RFC 8176);
//   - POST /__test/tamper with JSON {"aud": ..., "nonce": ..., "key": "other"} makes the
//     next token response carry an ID token with those claims changed (re-signed with the
//     provider's own key, or with a key it never published for "key": "other"): a token
//     minted for another service, replayed for another sign-in, or forged.
//
// It stops itself when its standard input closes (the test process ended) and after an
// hour whatever happens, so no run leaves it behind.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const accounts = new Map(); // accountId -> the claims its sign-in chose
let tamper = null;

const signing = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(signing.privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
const stranger = await jose.generateKeyPair('RS256', { extractable: true });

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

let provider;
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, provider.issuer);
    if (url.pathname === '/__test/tamper' && req.method === 'POST') {
      tamper = await readJson(req);
      res.writeHead(204).end();
      return;
    }
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test school sign-in</title></head>
<body><main><h1>Test school sign-in</h1>
<form method="post" action="/interaction/${escape(details.uid)}">
<label for="email">Email</label> <input id="email" name="email" type="email" value="${escape(details.params.login_hint || '')}">
<label><input type="checkbox" name="verified" value="1" checked> The school has verified this address</label>
<label><input type="checkbox" name="mfa" value="1"> Signed in with a second factor</label>
<button type="submit">Sign in</button></form></main></body></html>`);
        return;
      }
      const form = await readForm(req);
      const accountId = (form.get('email') || '').trim();
      accounts.set(accountId, { email: accountId, email_verified: form.get('verified') === '1' });
      const amr = form.get('mfa') === '1' ? ['pwd', 'mfa'] : ['pwd'];
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope('openid email');
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, {
        login: { accountId, amr }, consent: { grantId },
      }, { mergeWithLastSubmission: false });
      return;
    }
    provider.callback()(req, res);
  } catch (error) {
    // A finished or expired sign-in reopened (Back to the provider's page) is the
    // person's mistake, answered as real providers do: a 400 page, not a crash.
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(String(error));
  }
});

server.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingJwk] },
    conformIdTokenClaims: false, // email and email_verified in the ID token, as Entra and Google do
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // the sign-out question on a page of its own (the package's default loads a web
      // font from the internet, which the browser tests refuse)
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><main><h1>Sign out of the test school?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></main></body></html>`;
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomUUID()] },
    async findAccount(ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
      const wanted = tamper;
      tamper = null;
      const claims = jose.decodeJwt(ctx.body.id_token);
      for (const name of ['aud', 'nonce', 'iss', 'email']) {
        if (name in wanted) claims[name] = wanted[name];
      }
      const key = wanted.key === 'other' ? stranger.privateKey : signing.privateKey;
      ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid }).sign(key) };
    }
  });
  process.stdout.write(`READY ${issuer}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 60 * 60 * 1000);
