import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  PROMETHEUS_MISSING,
  prometheusConfig,
  prometheusInstalled,
  promtool,
} from '@subscribernest/testkit';
import { parse } from 'yaml';

const RULES = resolve(__dirname, '../../../ops/prometheus');
const installed = prometheusInstalled();
if (!installed) process.stderr.write(`worker: prometheus-rules.spec.ts ${PROMETHEUS_MISSING}\n`);

/**
 * The shipped Prometheus files checked by Prometheus's own tool, not by our parser: the rules
 * load, their unit tests (ops/prometheus/alerts.test.yml) prove each tested alert fires when it
 * should and stays quiet when it should, and a config like the compose one is valid.
 */
(installed ? describe : describe.skip)('ops/prometheus, checked by promtool', () => {
  it('alerts.yml: promtool check rules', async () => {
    const result = await promtool(['check', 'rules', 'alerts.yml'], RULES);
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('alerts.test.yml: promtool test rules (the midnight tick, the outbox age and more fire)', async () => {
    const tests = parse(await readFile(join(RULES, 'alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const proved = new Set(
      tests.tests.flatMap((test) =>
        test.alert_rule_test
          .filter((check) => check.exp_alerts.length > 0)
          .map((check) => check.alertname),
      ),
    );
    expect([...proved]).toEqual(expect.arrayContaining(['MidnightSyncMissed', 'OutboxBacklogOld']));
    const result = await promtool(['test', 'rules', 'alerts.test.yml'], RULES);
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toContain('SUCCESS');
  });

  it('promtool check config: a prometheus.yml pointed at the services, and the compose one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sn-promtool-'));
    try {
      const config = join(dir, 'prometheus.yml');
      await writeFile(
        config,
        prometheusConfig({
          targets: [
            { job: 'subscribernest-api', url: `http://127.0.0.1:${await freePort()}/metrics` },
            { job: 'subscribernest-worker', url: `http://127.0.0.1:${await freePort()}/metrics` },
          ],
          ruleFiles: [join(RULES, 'alerts.yml')],
        }),
      );
      const result = await promtool(['check', 'config', config]);
      expect(result).toMatchObject({ code: 0 });
      expect(result.output).toMatch(/SUCCESS: 1 rule files found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The compose profile's file names /etc/prometheus/alerts.yml (mounted there): syntax only.
    const compose = await promtool(['check', 'config', '--syntax-only', 'prometheus.yml'], RULES);
    expect(compose).toMatchObject({ code: 0 });
  });
});
