import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { METRICS } from '@subscribernest/shared';
import { freePort, RedisServer, ServiceProcess, waitFor } from '@subscribernest/testkit';
import { parse } from 'yaml';
import { SyncProcessHarness } from './support/sync-process';

const LIST = 'pub_observed';
const SIZE = 300;
const REQUEST_ID = 'req-observed-sync-1';
const OPS = resolve(__dirname, '../../../ops');

/** One sample of the Prometheus text format: value of `name{labels}` (0 when absent). */
function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) =>
      line.includes(`${key}="${value}"`),
    );
    if (wanted) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Every metric name an expression mentions (ours: the `subscribernest_` prefix). */
function metricNamesIn(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/subscribernest_[a-z0-9_]+/g)) {
    // Histogram series are queried as _bucket/_count/_sum of the metric.
    names.add(match[0].replace(/_(bucket|count|sum)$/, ''));
  }
  return [...names];
}

/**
 * Observability from outside (issue 15): the built api and worker as processes against their own
 * Redis, a sync requested through the api with an X-Request-Id, an email and the crons' start-up
 * ticks; then both /metrics endpoints are scraped. The counters moved by the right amounts, the
 * request id follows the sync through the worker's log lines, the outbox gauge rises while Redis
 * is down and falls after, and every metric the alert rules and the dashboard name is exported.
 */
describe('metrics, correlation ids and shipped dashboards (built api and worker)', () => {
  let redis: RedisServer;
  let harness: SyncProcessHarness;
  let worker: ServiceProcess;
  let api: { api: ServiceProcess; url: string };
  let workerMetricsUrl: string;
  let mailDir: string;

  const scrape = async (url: string): Promise<string> => (await fetch(url)).text();

  beforeAll(async () => {
    redis = await RedisServer.start();
    harness = await SyncProcessHarness.create([{ id: LIST, name: 'Observed', size: SIZE }], {
      redisUrl: redis.url,
    });
    mailDir = await mkdtemp(join(tmpdir(), 'sn-obs-mail-'));
    const opsPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${opsPort}/metrics`;
    worker = await harness.startWorker({
      OPS_PORT: String(opsPort),
      METRICS_SAMPLE_INTERVAL_MS: '200',
      OUTBOX_SWEEP_INTERVAL_MS: '300',
      EMAIL_OUTBOX_DIR: mailDir,
      LOG_LEVEL: 'info',
      CRONS_ENABLED: 'true',
      SYNC_REAPER_INTERVAL_MS: '1000',
    });
    // One trusted proxy in front: its X-Request-Id becomes the request's id.
    api = await harness.startApi({ TRUST_PROXY: '1', LOG_LEVEL: 'info' });
    // The start-up catch-up of every cron has run (it syncs nothing yet: no connection).
    await waitFor(
      async () => {
        const [row] = await harness.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM cron_runs WHERE name = 'midnight-sync' AND status = 'completed'`,
        );
        return row.n === 1;
      },
      { description: 'the midnight catch-up tick' },
    );
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
    await redis?.destroy();
    if (mailDir) await rm(mailDir, { recursive: true, force: true });
  });

  it('counts a sync, an email and a tick by the right amounts, and follows the sync by its request id', async () => {
    const before = await scrape(workerMetricsUrl);
    const owner = await harness.owner(LIST);
    const accepted = await fetch(`${api.url}/esp-connections/${owner.connectionId}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'x-request-id': REQUEST_ID },
    });
    expect(accepted.status).toBe(202);
    const { jobId } = (await accepted.json()) as { jobId: string };
    const run = await harness.finished(jobId);
    expect(run).toMatchObject({ status: 'success', subscriber_count: SIZE });

    const sent = await fetch(`${api.url}/auth/send-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'observer@example.com' }),
    });
    expect(sent.status).toBeLessThan(300);

    const pages = harness.pageRequests(LIST).length;
    const after = await waitFor(
      async () => {
        const text = await scrape(workerMetricsUrl);
        const emailed = sampleOf(text, METRICS.emails.name, {
          kind: 'login-code',
          outcome: 'sent',
        });
        const sampled = sampleOf(text, METRICS.cronLastSuccess.name, { cron: 'midnight-sync' });
        return emailed >= 1 && sampled > 0 ? text : undefined;
      },
      { description: 'the email and the cron sample in the worker metrics' },
    );
    const moved = (name: string, labels: Record<string, string>) =>
      sampleOf(after, name, labels) - sampleOf(before, name, labels);

    expect(moved(METRICS.syncRuns.name, { esp: 'beehiiv', outcome: 'success' })).toBe(1);
    expect(moved(METRICS.syncSubscribers.name, { esp: 'beehiiv', change: 'created' })).toBe(SIZE);
    expect(moved(METRICS.syncSubscribers.name, { esp: 'beehiiv', change: 'removed' })).toBe(0);
    expect(moved(`${METRICS.syncDuration.name}_count`, { esp: 'beehiiv' })).toBe(1);
    expect(
      moved(METRICS.espRequests.name, { esp: 'beehiiv', endpoint: 'subscribers', status: '2xx' }),
    ).toBe(pages);
    expect(
      moved(METRICS.jobs.name, {
        queue: 'subscriber-sync',
        name: 'sync-publication',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(moved(METRICS.emails.name, { kind: 'login-code', outcome: 'sent' })).toBe(1);
    expect(
      sampleOf(after, METRICS.cronTicks.name, { cron: 'midnight-sync', result: 'caught_up' }),
    ).toBe(1);
    expect(sampleOf(after, METRICS.cronLastOutcome.name, { cron: 'midnight-sync' })).toBe(1);
    expect(
      sampleOf(after, METRICS.queueJobs.name, { queue: 'subscriber-sync', state: 'waiting' }),
    ).toBe(0);

    const apiMetrics = await scrape(`${api.url}/metrics`);
    expect(
      sampleOf(apiMetrics, `${METRICS.httpRequestDuration.name}_count`, {
        method: 'POST',
        route: '/esp-connections/:id/sync',
        status: '2xx',
      }),
    ).toBe(1);

    // The request id, end to end: the run and its job say it, and so does every worker line of it.
    const history = (await (
      await fetch(`${api.url}/esp-connections/${owner.connectionId}/sync-history`, {
        headers: { authorization: `Bearer ${owner.token}` },
      })
    ).json()) as { correlationId: string | null }[];
    expect(history[0].correlationId).toBe(REQUEST_ID);
    const job = (await (
      await fetch(`${api.url}/jobs/${jobId}`, {
        headers: { authorization: `Bearer ${owner.token}` },
      })
    ).json()) as { correlationId: string | null };
    expect(job.correlationId).toBe(REQUEST_ID);
    const workerLines = worker
      .logLines<{ correlationId?: string; msg?: string; queue?: string }>()
      .filter((line) => line.correlationId === REQUEST_ID);
    const messages = workerLines.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'sync requested: sync-publication enqueued',
        'sync started',
        'sync finished',
        'job completed',
      ]),
    );
    const apiLines = api.api
      .logLines<{ req?: { id?: string } }>()
      .filter((line) => line.req?.id === REQUEST_ID);
    expect(apiLines.length).toBeGreaterThan(0);
  });

  it('counts a run the reaper fails (its job was lost) as a failed run, once', async () => {
    const before = await scrape(workerMetricsUrl);
    const owner = await harness.owner(LIST);
    // A run accepted an hour ago whose job Redis no longer has: nothing will ever drive it.
    const [run] = await harness.dataSource.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status, created_at)
       VALUES ($1, $2, 'manual', 'queued', now() - interval '1 hour') RETURNING id`,
      [owner.connectionId, owner.userId],
    );
    await waitFor(
      async () => {
        const [row] = await harness.dataSource.query<{ status: string }[]>(
          `SELECT status FROM sync_runs WHERE id = $1`,
          [run.id],
        );
        return row.status === 'failed';
      },
      { description: 'the reaper failing the lost run' },
    );
    // Later rounds find nothing more to fail: the count stays at one.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = await scrape(workerMetricsUrl);
    const failed = { esp: 'beehiiv', outcome: 'failed' };
    expect(sampleOf(after, METRICS.syncRuns.name, failed)).toBe(
      sampleOf(before, METRICS.syncRuns.name, failed) + 1,
    );
  });

  it('shows the outbox backlog while Redis is down, and its end after Redis is back', async () => {
    const owner = await harness.owner(LIST);
    await redis.stop();
    try {
      const accepted = await fetch(`${api.url}/esp-connections/${owner.connectionId}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.token}` },
      });
      expect(accepted.status).toBe(202);
      await waitFor(
        async () =>
          sampleOf(await scrape(workerMetricsUrl), METRICS.outboxUnpublished.name) >= 1 ||
          undefined,
        { description: 'the outbox gauge to rise', timeoutMs: 20_000 },
      );
      const relayFailures = sampleOf(
        await scrape(`${api.url}/metrics`),
        METRICS.outboxRelayFailures.name,
      );
      expect(relayFailures).toBeGreaterThanOrEqual(1);
    } finally {
      await redis.restart();
    }
    await waitFor(
      async () =>
        sampleOf(await scrape(workerMetricsUrl), METRICS.outboxUnpublished.name) === 0 || undefined,
      { description: 'the outbox gauge to fall back to 0', timeoutMs: 30_000 },
    );
    const [{ n }] = await harness.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL`,
    );
    expect(n).toBe(0);
  });

  it('exports every metric the alert rules and the dashboard name; the rules file parses', async () => {
    const rulesText = await readFile(join(OPS, 'prometheus/alerts.yml'), 'utf8');
    const rules = parse(rulesText) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'MidnightSyncMissed',
        'DeadJobsGrowing',
        'OutboxBacklogOld',
        'SyncFailureRateHigh',
        'EspRateLimitedOften',
        'QueueBacklogGrowing',
        'ServiceDown',
      ]),
    );
    for (const rule of alerts) expect(typeof rule.expr).toBe('string');
    const dashboard = JSON.parse(
      await readFile(join(OPS, 'grafana/subscribernest.json'), 'utf8'),
    ) as {
      panels: { targets: { expr: string }[] }[];
    };
    const named = new Set([
      ...metricNamesIn(rulesText),
      ...dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => metricNamesIn(t.expr))),
    ]);
    const exported = `${await scrape(workerMetricsUrl)}\n${await scrape(`${api.url}/metrics`)}`;
    const missing = [...named].filter((name) => !exported.includes(`# TYPE ${name} `));
    expect(missing).toEqual([]);
    // And the catalog documents exactly what is exported.
    const catalog = Object.values(METRICS).map((metric) => metric.name);
    expect(catalog.filter((name) => !exported.includes(`# TYPE ${name} `))).toEqual([]);
  });
});
