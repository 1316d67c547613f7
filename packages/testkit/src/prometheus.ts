import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { waitFor } from './wait-for';

/**
 * The one line a test prints when it skips for want of Prometheus: what to install. As root on
 * Debian/Ubuntu, scripts/services.sh (run by `npm test` and `.ci/run`) installs it itself.
 */
export const PROMETHEUS_MISSING =
  'skipped: `promtool` and `prometheus` are not on the PATH; install them with ' +
  '`apt-get install prometheus` (Debian/Ubuntu; scripts/services.sh does it when run as root)';

/** Whether `promtool` and `prometheus` are both installed (Debian's `prometheus` package). */
export function prometheusInstalled(): boolean {
  return ['promtool', 'prometheus'].every(
    (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
  );
}

/** Runs `promtool <args>`: its exit code and everything it printed. */
export function promtool(args: string[], cwd?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** A scrape job: its job label and the full URL of its metrics endpoint. */
export interface ScrapeTarget {
  job: string;
  url: string;
}

export interface PrometheusConfigOptions {
  targets: ScrapeTarget[];
  /** Absolute paths of rule files to load. */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval (default 1 s). */
  intervalSeconds?: number;
}

/** A prometheus.yml (written as JSON, which is YAML) scraping `targets` and loading the rules. */
export function prometheusConfig(options: PrometheusConfigOptions): string {
  const interval = `${options.intervalSeconds ?? 1}s`;
  return JSON.stringify(
    {
      global: {
        scrape_interval: interval,
        evaluation_interval: interval,
        scrape_timeout: interval,
      },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: options.targets.map((target) => {
        const url = new URL(target.url);
        return {
          job_name: target.job,
          metrics_path: url.pathname,
          static_configs: [{ targets: [url.host] }],
        };
      }),
    },
    null,
    2,
  );
}

/**
 * The real `prometheus` binary of a test's own: a free port, its config and TSDB in a temporary
 * folder, short intervals. `api()` asks its HTTP API (the `data` of a successful answer).
 */
export class PrometheusServer {
  private process: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(options: PrometheusConfigOptions): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'sn-prometheus-'));
    const server = new PrometheusServer(await freePort(), dir);
    await writeFile(server.configPath, prometheusConfig(options));
    await server.launch();
    return server;
  }

  get configPath(): string {
    return join(this.dir, 'prometheus.yml');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the server printed so far (its log), for a failing test to show. */
  get log(): string {
    return this.output;
  }

  /** GET /api/v1/<path>: the answer's `data`; throws with Prometheus's error otherwise. */
  async api<T>(path: string, params: Record<string, string | string[]> = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const one of Array.isArray(value) ? value : [value]) query.append(key, one);
    }
    const response = await fetch(`${this.url}/api/v1/${path}?${query.toString()}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  }

  /** An instant query's vector: each series' labels and value. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const data = await this.api<{
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>('query', { query: expr });
    return data.result.map((row) => ({ metric: row.metric, value: Number(row.value[1]) }));
  }

  /** Stops the server and deletes its data. */
  async destroy(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'prometheus',
      [
        `--config.file=${this.configPath}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(new Error(`could not start prometheus (${error.message}); ${PROMETHEUS_MISSING}`)),
      );
      child.once('exit', (code) =>
        reject(new Error(`prometheus exited with code ${code}:\n${this.output}`)),
      );
    });
    failed.catch(() => undefined);
    this.process = child;
    await Promise.race([
      failed,
      waitFor(async () => (await fetch(`${this.url}/-/ready`)).ok, {
        description: 'prometheus to be ready',
      }),
    ]);
  }
}
