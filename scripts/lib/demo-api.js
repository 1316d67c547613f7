// Demo through the api as a newsletter owner would use it: sign in with the one-time code (the
// worker writes the email as an .eml file when SMTP_URL is unset), connect the fake beehiiv
// publication, read its live subscriber count, sync it through the worker and read the synced
// subscribers back and export them. Prints no secret.
// With USE_REAL_ESPS=1 the connection is the real ESP account named by DEMO_ESP_TYPE,
// DEMO_ESP_API_KEY and DEMO_PUBLICATION_ID; without a key the demo stops after signing in.
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { FAKE_ESP_DEMO_KEYS } = require('@subscribernest/testkit');

const API = process.env.API_URL;
const MAIL_DIR = process.env.MAIL_DIR;
const EMAIL = 'demo@example.com';

/** What the demo connects: the fake's demo publication, or the real account it was given. */
function demoConnection() {
  if (process.env.USE_REAL_ESPS !== '1') {
    return { espType: 'beehiiv', apiKey: FAKE_ESP_DEMO_KEYS.beehiiv, publicationId: 'pub_demo' };
  }
  const apiKey = process.env.DEMO_ESP_API_KEY;
  if (!apiKey) return null;
  const espType = process.env.DEMO_ESP_TYPE || 'beehiiv';
  const publicationId = process.env.DEMO_PUBLICATION_ID || undefined;
  return { espType, apiKey, ...(publicationId ? { publicationId } : {}) };
}

async function call(method, path, body, token) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function newestCode(since) {
  for (let i = 0; i < 100; i++) {
    const files = (() => {
      try {
        return readdirSync(MAIL_DIR).filter((f) => f.startsWith('login-code-'));
      } catch {
        return [];
      }
    })()
      .map((f) => ({ f, at: statSync(join(MAIL_DIR, f)).mtimeMs }))
      .filter((x) => x.at >= since)
      .sort((a, b) => b.at - a.at);
    if (files.length > 0) {
      const raw = readFileSync(join(MAIL_DIR, files[0].f), 'utf8');
      const code = /\b(\d{6})\b/.exec(raw.replace(/=\r?\n/g, ''));
      if (code) return { code: code[1], file: join(MAIL_DIR, files[0].f) };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no login-code email appeared in ${MAIL_DIR}`);
}

async function main() {
  const since = Date.now() - 1000;
  const sent = await call('POST', '/auth/send-code', { email: EMAIL });
  console.log(`POST /auth/send-code -> ${sent.status} ${JSON.stringify(sent.body)}`);
  if (sent.status === 429) {
    console.log(
      '   (sign-in codes are rate-limited per address: run the demo again in a few minutes)',
    );
    return;
  }
  const { code, file } = await newestCode(since);
  console.log(`   the worker wrote the email to ${file}`);
  const signedIn = await call('POST', '/auth/verify-code', { email: EMAIL, code });
  if (signedIn.status !== 200) throw new Error(`verify-code answered ${signedIn.status}`);
  const token = signedIn.body.token;
  console.log(`POST /auth/verify-code -> ${signedIn.status}, user ${signedIn.body.user.email}`);

  const demo = demoConnection();
  if (demo === null) {
    const all = await call('GET', '/esp-connections', undefined, token);
    console.log(`GET /esp-connections -> ${all.status}, ${all.body.length} connection(s)`);
    console.log(
      '   USE_REAL_ESPS=1 without DEMO_ESP_API_KEY: connect a real account with ' +
        'DEMO_ESP_TYPE=beehiiv|kit|mailchimp DEMO_ESP_API_KEY=... DEMO_PUBLICATION_ID=... ' +
        '(the publication or list id; optional for Kit)',
    );
    return;
  }
  const connect = () => call('POST', '/esp-connections', demo, token);
  let connection = await connect();
  if (connection.status === 409) {
    // An earlier demo's connection: possibly from another checkout sharing this database, whose
    // .env held other keys (its stored key and addresses would not decrypt here). Start afresh.
    const all = await call('GET', '/esp-connections', undefined, token);
    const earlier = all.body.find(
      (c) =>
        c.espType === demo.espType &&
        (!demo.publicationId || c.publicationId === demo.publicationId),
    );
    const removed = await call('DELETE', `/esp-connections/${earlier.id}`, undefined, token);
    console.log(`DELETE /esp-connections/:id (an earlier demo's) -> ${removed.status}`);
    connection = await connect();
  }
  if (connection.status !== 201) {
    const reason = connection.body && connection.body.message ? `: ${connection.body.message}` : '';
    throw new Error(`POST /esp-connections answered ${connection.status}${reason}`);
  }
  const id = connection.body.id;
  console.log(
    `POST /esp-connections -> ${connection.status}: ${connection.body.espType} ` +
      `"${connection.body.listNames[0]}" status ${connection.body.status}`,
  );
  const count = await call('GET', `/esp-connections/${id}/subscriber-count`, undefined, token);
  console.log(`GET /esp-connections/:id/subscriber-count -> ${JSON.stringify(count.body)}`);
  const sync = await call('POST', `/esp-connections/${id}/sync`, undefined, token);
  console.log(
    `POST /esp-connections/:id/sync -> ${sync.status} ${sync.body.status} (job ${sync.body.jobId})`,
  );
  let run;
  for (let i = 0; i < 150; i++) {
    const history = await call(
      'GET',
      `/esp-connections/${id}/sync-history?limit=1`,
      undefined,
      token,
    );
    run = history.body[0];
    if (run && (run.status === 'success' || run.status === 'failed')) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(
    `GET /esp-connections/:id/sync-history -> ${run.status}, ${run.subscriberCount} subscribers` +
      (run.errorMessage ? ` (${run.errorMessage})` : ''),
  );
  const job = await call('GET', `/jobs/${sync.body.jobId}`, undefined, token);
  console.log(`GET /jobs/:id -> ${job.status} ${job.body.status}`);
  const stats = await call('GET', `/esp-connections/${id}/subscriber-stats`, undefined, token);
  console.log(`GET /esp-connections/:id/subscriber-stats -> ${JSON.stringify(stats.body)}`);
  const page = await call('GET', `/esp-connections/${id}/subscribers?limit=3`, undefined, token);
  console.log(
    `GET /esp-connections/:id/subscribers?limit=3 -> total ${page.body.total}: ` +
      page.body.data.map((s) => `${s.maskedEmail} (${s.status})`).join(', '),
  );

  // The export is a download, not JSON: count its lines, print no address.
  const exported = await fetch(`${API}/esp-connections/${id}/subscribers/export?format=csv`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const csv = await exported.text();
  if (exported.status !== 200) throw new Error(`export answered ${exported.status}: ${csv}`);
  const rows = csv.split('\n').filter((line) => line.length > 0).length - 1;
  console.log(
    `GET /esp-connections/:id/subscribers/export?format=csv -> ${exported.status}, ` +
      `${rows} rows, ${exported.headers.get('content-disposition')}`,
  );
}

main().catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
