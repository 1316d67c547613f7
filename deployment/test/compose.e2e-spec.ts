import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FAKE_ESP_DEMO_KEYS, freePort, waitFor } from '@subscribernest/testkit';
import {
  COMPOSE_FILE,
  ComposeProject,
  composeAvailable,
  emptyEnvFile,
  engineAvailable,
  REPO_ROOT,
} from './compose';

const execFileAsync = promisify(execFile);

// The fake ESP's lists (deployment/docker-compose.test.yml).
const BEEHIIV = { publicationId: 'pub_compose', size: 3000 };
const KIT = { size: 1500 };
const OWNER = 'owner@example.com';
const MINUTE = 60_000;

interface Api {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const available = composeAvailable();
const engine = available && engineAvailable();
if (!available) {
  process.stderr.write(
    'deployment: skipped the compose end-to-end test: `docker compose version` failed\n',
  );
} else if (!engine) {
  process.stderr.write(
    'deployment: skipped the compose deployment up for real: no container engine answers ' +
      '`docker version` (start one, or point DOCKER_HOST at it; see README, What the tests run)\n',
  );
}
const describeCompose = available ? describe : describe.skip;
const describeComposeUp = engine ? describe : describe.skip;

describeCompose('docker-compose.yml', () => {
  it('refuses to render without ENCRYPTION_KEY or HMAC_KEY, naming the one missing (docker compose config)', async () => {
    // One missing at a time: compose names whichever it interpolates first.
    for (const [missing, set] of [
      ['ENCRYPTION_KEY', 'HMAC_KEY'],
      ['HMAC_KEY', 'ENCRYPTION_KEY'],
    ]) {
      const config = execFileAsync(
        'docker',
        ['compose', '--env-file', emptyEnvFile(), '-f', COMPOSE_FILE, 'config', '-q'],
        { cwd: REPO_ROOT, env: { ...process.env, [missing]: '', [set]: 'set-for-this-check' } },
      );
      await expect(config).rejects.toMatchObject({
        stderr: expect.stringMatching(new RegExp(`${missing}.*set ${missing} in \\.env`)),
      });
    }
  });

  it('renders the monitoring profile (Prometheus and Grafana provisioned from ops/)', async () => {
    const { stdout } = await execFileAsync(
      'docker',
      [
        'compose',
        '--env-file',
        emptyEnvFile(),
        '-f',
        COMPOSE_FILE,
        '--profile',
        'monitoring',
        'config',
        '--services',
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
          HMAC_KEY: randomBytes(32).toString('base64'),
        },
      },
    );
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining(['prometheus', 'grafana', 'api', 'worker']),
    );
  });
});

describeComposeUp('the compose deployment, up for real (NODE_ENV=production)', () => {
  let project: ComposeProject;
  let api: string;
  let mail: string;
  let token: string;
  const connections: Record<'beehiiv' | 'kit', string> = { beehiiv: '', kit: '' };

  const call = async (method: string, path: string, body?: unknown): Promise<Api> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const latestRun = async (id: string) =>
    (await call('GET', `/esp-connections/${id}/sync-history?limit=1`)).body[0];
  const waitForSuccess = (id: string, timeoutMs = 3 * MINUTE) =>
    waitFor(
      async () => {
        const run = await latestRun(id);
        if (run?.status === 'failed') throw new Error(`sync failed: ${run.errorMessage}`);
        return run?.status === 'success' ? run : undefined;
      },
      { timeoutMs, intervalMs: 500, description: 'the sync to succeed' },
    );

  beforeAll(async () => {
    const [apiPort, postgresPort, redisPort, mailPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    project = new ComposeProject(`sn-e2e-${process.pid}-${Date.now().toString(36)}`, {
      ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
      HMAC_KEY: randomBytes(32).toString('base64'),
      API_PORT: String(apiPort),
      POSTGRES_PORT: String(postgresPort),
      REDIS_PORT: String(redisPort),
      MAIL_PORT: String(mailPort),
      MAIL_TLS_HOSTS: 'mail,fake-esp,localhost,127.0.0.1',
    });
    api = `http://127.0.0.1:${apiPort}`;
    mail = `http://127.0.0.1:${mailPort}`;
    // Cold builds of the three images take minutes; cached ones seconds.
    await project.compose(['up', '-d', '--build', '--wait'], 25 * MINUTE);
  }, 26 * MINUTE);

  afterAll(async () => {
    if (!project) return;
    await project.compose(['down', '-v', '--remove-orphans'], 3 * MINUTE);
  }, 4 * MINUTE);

  it(
    'lets an owner sign in with the emailed code, connect the ESP, sync, list and export',
    async () => {
      token = '';
      expect((await call('POST', '/auth/send-code', { email: OWNER })).status).toBe(200);
      const email = await waitFor(
        async () => {
          const messages = (await (await fetch(`${mail}/messages?to=${OWNER}`)).json()) as {
            subject: string;
            text: string;
          }[];
          return messages.find((m) => /sign-in code/i.test(m.subject));
        },
        { timeoutMs: 30_000, intervalMs: 250, description: 'the sign-in email in the mail sink' },
      );
      const code = /\b(\d{6})\b/.exec(email.text)?.[1];
      const signedIn = await call('POST', '/auth/verify-code', { email: OWNER, code });
      expect(signedIn.status).toBe(200);
      token = signedIn.body.token;

      const beehiiv = await call('POST', '/esp-connections', {
        espType: 'beehiiv',
        apiKey: FAKE_ESP_DEMO_KEYS.beehiiv,
        publicationId: BEEHIIV.publicationId,
      });
      expect(beehiiv).toMatchObject({ status: 201, body: { status: 'active' } });
      connections.beehiiv = beehiiv.body.id;

      const sync = await call('POST', `/esp-connections/${connections.beehiiv}/sync`);
      expect(sync.status).toBe(202);
      const run = await waitForSuccess(connections.beehiiv);
      expect(run.subscriberCount).toBe(BEEHIIV.size);

      const page = await call('GET', `/esp-connections/${connections.beehiiv}/subscribers?limit=5`);
      expect(page.body.total).toBe(BEEHIIV.size);
      expect(page.body.data).toHaveLength(5);

      const exported = await fetch(
        `${api}/esp-connections/${connections.beehiiv}/subscribers/export?format=csv`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(exported.status).toBe(200);
      const rows = (await exported.text()).split('\n').filter((line) => line.length > 0);
      expect(rows).toHaveLength(BEEHIIV.size + 1); // a header, then one row per subscriber
    },
    5 * MINUTE,
  );

  it(
    'with three workers, a midnight tick run by hand queues each active connection once',
    async () => {
      const kit = await call('POST', '/esp-connections', {
        espType: 'kit',
        apiKey: FAKE_ESP_DEMO_KEYS.kit,
      });
      expect(kit.status).toBe(201);
      connections.kit = kit.body.id;
      await project.compose(
        ['up', '-d', '--scale', 'worker=3', '--no-recreate', '--wait'],
        5 * MINUTE,
      );
      const workers = await project.compose(['ps', '-q', 'worker']);
      expect(workers.trim().split('\n')).toHaveLength(3);

      await project.sql(`UPDATE users SET role = 'admin' WHERE email = '${OWNER}'`);
      const tick = await call('POST', '/admin/schedulers/midnight-sync/run');
      expect(tick.status).toBe(202);
      expect((await waitForSuccess(connections.kit)).subscriberCount).toBe(KIT.size);
      await waitForSuccess(connections.beehiiv);

      const scheduled = await project.sql(
        "SELECT esp_connection_id, count(*) FROM sync_runs WHERE trigger = 'scheduled' GROUP BY 1 ORDER BY 1",
      );
      expect(scheduled).toEqual(
        [connections.beehiiv, connections.kit].sort().map((id) => [id, '1']),
      );
    },
    8 * MINUTE,
  );

  it(
    'finishes a sync exactly when every worker is stopped mid-sync and started again',
    async () => {
      const sync = await call('POST', `/esp-connections/${connections.beehiiv}/sync`);
      expect(sync.status).toBe(202);
      await waitFor(async () => (await latestRun(connections.beehiiv))?.status === 'running', {
        timeoutMs: MINUTE,
        intervalMs: 200,
        description: 'the sync to be running',
      });
      await new Promise((resolve) => setTimeout(resolve, 2000)); // a few slow pages in
      await project.compose(['stop', 'worker'], 2 * MINUTE);
      expect((await latestRun(connections.beehiiv)).status).not.toBe('success');

      await project.compose(['start', 'worker'], 2 * MINUTE);
      const run = await waitForSuccess(connections.beehiiv);
      expect(run.subscriberCount).toBe(BEEHIIV.size);
      const [[rows]] = await project.sql(
        `SELECT count(*) FROM subscribers WHERE esp_connection_id = '${connections.beehiiv}'`,
      );
      expect(Number(rows)).toBe(BEEHIIV.size);
    },
    8 * MINUTE,
  );
});
