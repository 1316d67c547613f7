import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { METRICS } from '@subscribernest/shared';
import {
  freePort,
  PROMETHEUS_MISSING,
  PrometheusServer,
  prometheusInstalled,
  RedisServer,
  ServiceProcess,
  waitFor,
} from '@subscribernest/testkit';
import { parse } from 'yaml';
import { SyncProcessHarness } from './support/sync-process';

const LIST = 'pub_observed';
const SIZE = 300;
const REQUEST_ID = 'req-observed-sync-1';
// The trusted proxy's W3C trace context: its trace id must reach the worker's lines of the run.
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const UPSTREAM_TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;
const TRACERESPONSE = /^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/;
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

/** The trace id of a `traceresponse` header (fails the test when there is none). */
function traceIdOf(response: Response): string {
  const match = TRACERESPONSE.exec(response.headers.get('traceresponse') ?? '');
  expect(match).not.toBeNull();
  return match![1];
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

/** The shipped rules file, its alerts, and every metric it and the Grafana dashboard name. */
async function shippedOps() {
  const rulesText = await readFile(join(OPS, 'prometheus/alerts.yml'), 'utf8');
  const rules = parse(rulesText) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const alerts = rules.groups.flatMap((group) => group.rules);
  const dashboard = JSON.parse(
    await readFile(join(OPS, 'grafana/subscribernest.json'), 'utf8'),
  ) as {
    panels: { targets: { expr: string }[] }[];
  };
  const named = new Set([
    ...metricNamesIn(rulesText),
    ...dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => metricNamesIn(t.expr))),
  ]);
  return { alerts, named: [...named] };
}

const PROMETHEUS = prometheusInstalled();
if (!PROMETHEUS) {
  process.stderr.write(
    `worker: the real-Prometheus test of observability.e2e-spec.ts ${PROMETHEUS_MISSING}\n`,
  );
}

/**
 * Observability from outside (issue 15): the built api and worker as processes against their own
 * Redis, a sync requested through the api with an X-Request-Id, an email and the crons' start-up
 * ticks; then both /metrics endpoints are scraped. The counters moved by the right amounts, the
 * request id follows the sync through the worker's log lines, the outbox gauge rises while Redis
 * is down and falls after, and every metric the alert rules and the dashboard name is exported.
 */
/**
 * The worker's log lines `read` returns, once they include every message of `expected`: a run is
 * `success` in the database a moment before the worker logs that it finished (and before BullMQ
 * completes its job), so a read right after the run finished can miss those lines.
 */
async function linesSaying<L extends { msg?: string }>(
  read: () => L[],
  expected: string[],
): Promise<L[]> {
  return waitFor(
    () => {
      const lines = read();
      const said = new Set(lines.map((line) => line.msg));
      return expected.every((msg) => said.has(msg)) ? lines : undefined;
    },
    { timeoutMs: 10_000, description: `worker log lines: ${expected.join(', ')}` },
  ).catch(() => read());
}

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
      headers: {
        authorization: `Bearer ${owner.token}`,
        'x-request-id': REQUEST_ID,
        traceparent: UPSTREAM_TRACEPARENT,
      },
    });
    expect(accepted.status).toBe(202);
    expect(traceIdOf(accepted)).toBe(TRACE_ID);
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
    const workerLines = await linesSaying(
      () =>
        worker
          .logLines<{ correlationId?: string; traceId?: string; msg?: string; queue?: string }>()
          .filter((line) => line.correlationId === REQUEST_ID),
      ['sync finished', 'job completed'],
    );
    const messages = workerLines.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'sync requested: sync-publication enqueued',
        'sync started',
        'sync finished',
        'job completed',
      ]),
    );
    // ...and the proxy's trace id with it (W3C traceparent: the outbox row, the event, the job).
    expect(workerLines.filter((line) => line.traceId !== TRACE_ID)).toEqual([]);
    const [outbox] = await harness.dataSource.query<{ payload: { traceparent?: string } }[]>(
      `SELECT payload FROM outbox_events WHERE payload->>'syncRunId' = $1`,
      [jobId],
    );
    expect(outbox.payload.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    const apiLines = api.api
      .logLines<{ req?: { id?: string }; traceId?: string }>()
      .filter((line) => line.req?.id === REQUEST_ID);
    expect(apiLines.length).toBeGreaterThan(0);
    expect(apiLines.filter((line) => line.traceId !== TRACE_ID)).toEqual([]);
  });

  it('ignores a malformed traceparent on POST /sync: a new trace, followed into the worker', async () => {
    const owner = await harness.owner(LIST);
    const accepted = await fetch(`${api.url}/esp-connections/${owner.connectionId}/sync`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${owner.token}`,
        traceparent: `00-${TRACE_ID.toUpperCase()}-B7AD6B7169203331-01`,
      },
    });
    expect(accepted.status).toBe(202);
    const traceId = traceIdOf(accepted);
    expect(traceId).not.toBe(TRACE_ID);
    const { jobId } = (await accepted.json()) as { jobId: string };
    expect(await harness.finished(jobId)).toMatchObject({ status: 'success' });
    const lines = await linesSaying(
      () =>
        worker
          .logLines<{ traceId?: string; msg?: string }>()
          .filter((line) => line.traceId === traceId),
      ['sync finished', 'job completed'],
    );
    const messages = lines.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining(['sync started', 'sync finished', 'job completed']),
    );
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
    const { alerts, named } = await shippedOps();
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
    const exported = `${await scrape(workerMetricsUrl)}\n${await scrape(`${api.url}/metrics`)}`;
    const missing = named.filter((name) => !exported.includes(`# TYPE ${name} `));
    expect(missing).toEqual([]);
    // And the catalog documents exactly what is exported.
    const catalog = Object.values(METRICS).map((metric) => metric.name);
    expect(catalog.filter((name) => !exported.includes(`# TYPE ${name} `))).toEqual([]);
  });

  /**
   * The real `prometheus` binary (Debian's package) scraping both built services every second
   * with alerts.yml loaded: both targets are up, every rule evaluates without an error, and every
   * metric the rules and the dashboard name has series in Prometheus itself (not just a TYPE line).
   */
  (PROMETHEUS ? it : it.skip)(
    'a real Prometheus scrapes both services, evaluates every rule cleanly and has every series the rules and dashboard name',
    async () => {
      const { alerts, named } = await shippedOps();
      const prometheus = await PrometheusServer.start({
        targets: [
          { job: 'subscribernest-api', url: `${api.url}/metrics` },
          { job: 'subscribernest-worker', url: workerMetricsUrl },
        ],
        ruleFiles: [join(OPS, 'prometheus/alerts.yml')],
        intervalSeconds: 1,
      });
      try {
        type Target = { labels: { job: string }; health: string; lastError: string };
        const targets = await waitFor(
          async () => {
            const data = await prometheus.api<{ activeTargets: Target[] }>('targets');
            const up = data.activeTargets.filter((target) => target.health === 'up');
            return up.length === 2 ? data.activeTargets : undefined;
          },
          { description: 'both targets up in Prometheus', timeoutMs: 30_000 },
        );
        expect(
          targets
            .map((target) => ({
              job: target.labels.job,
              health: target.health,
              error: target.lastError,
            }))
            .sort((a, b) => a.job.localeCompare(b.job)),
        ).toEqual([
          { job: 'subscribernest-api', health: 'up', error: '' },
          { job: 'subscribernest-worker', health: 'up', error: '' },
        ]);
        // The ServiceDown rule's own selector finds both, answering.
        const up = await prometheus.query('up{job=~"subscribernest-(api|worker)"}');
        expect(up.map((row) => row.value)).toEqual([1, 1]);

        type Rule = { name: string; health: string; lastError?: string };
        const rules = await waitFor(
          async () => {
            const data = await prometheus.api<{ groups: { rules: Rule[] }[] }>('rules');
            const all = data.groups.flatMap((group) => group.rules);
            return all.length === alerts.length && all.every((rule) => rule.health !== 'unknown')
              ? all
              : undefined;
          },
          { description: 'every rule evaluated once', timeoutMs: 30_000 },
        );
        expect(rules.map((rule) => rule.name).sort()).toEqual(
          alerts.map((rule) => rule.alert).sort(),
        );
        expect(
          rules.filter((rule) => rule.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
        ).toEqual([]);

        const withoutSeries = async () => {
          const missing: string[] = [];
          for (const name of named) {
            const series = await prometheus.api<unknown[]>('series', {
              'match[]': `{__name__=~"${name}|${name}_bucket|${name}_count|${name}_sum"}`,
            });
            if (series.length === 0) missing.push(name);
          }
          return missing;
        };
        const missing = await waitFor(
          async () => {
            const names = await withoutSeries();
            return names.length === 0 ? names : undefined;
          },
          { description: 'series for every named metric', timeoutMs: 15_000 },
        ).catch(() => withoutSeries());
        expect(missing).toEqual([]);
      } catch (error) {
        process.stderr.write(`prometheus log:\n${prometheus.log}\n`);
        throw error;
      } finally {
        await prometheus.destroy();
      }
    },
    90_000,
  );
});
