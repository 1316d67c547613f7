import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { freePort } from './ports';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** One master of a RedisCluster: its port and whether its process runs. */
export interface RedisClusterNode {
  port: number;
  running: boolean;
}

/**
 * Why this machine's Redis cannot run a local cluster (a `redis-server` older than 5, whose
 * `redis-cli` has no `--cluster create`), or null when it can. Synchronous, so a spec can pick
 * `describe.skip` with the reason in its title: the one line the run prints for it. A missing
 * `redis-server` is no reason to skip: RedisCluster.start then fails saying so, as RedisServer
 * does.
 */
export function redisClusterUnsupported(): string | null {
  let version: RegExpExecArray | null;
  try {
    version = /v=(\d+)\.(\d+)/.exec(execFileSync('redis-server', ['--version']).toString());
  } catch {
    return null;
  }
  if (!version || Number(version[1]) < 5) {
    return `redis-server ${version?.[0] ?? '(unknown version)'} cannot create a cluster (needs 5+)`;
  }
  return null;
}

/** A cluster spec's title: `name`, with why it is skipped when redisClusterUnsupported says so. */
export function clusterSuiteName(name: string, unsupported = redisClusterUnsupported()): string {
  return unsupported ? `${name} — skipped: ${unsupported}` : name;
}

/**
 * A Redis Cluster of a test's own: three masters (`redis-server --cluster-enabled yes`, no
 * replicas) on free ports, with their nodes.conf and append-only files in one temporary folder,
 * joined by `redis-cli --cluster create`. A node can be killed and started again on the same port
 * with the same nodes.conf and AOF: it rejoins as the master of the same slots, with its data.
 */
export class RedisCluster {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'sn-redis-cluster-'));
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus listens on port + 10000: keep both free of the other nodes'.
      if (port <= 55_535 && !ports.some((p) => Math.abs(p - port) === 10_000)) ports.push(port);
    }
    const cluster = new RedisCluster(ports, dir);
    try {
      await Promise.all(ports.map((port) => cluster.launch(port)));
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** REDIS_URL for the services: every master as a seed node. */
  get url(): string {
    return `redis+cluster://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  get nodes(): RedisClusterNode[] {
    return this.ports.map((port) => ({ port, running: this.processes.has(port) }));
  }

  /** A cluster client for the test itself (close it with `disconnect()`). */
  client(): Cluster {
    return new Cluster(
      this.ports.map((port) => ({ host: '127.0.0.1', port })),
      { enableReadyCheck: true, redisOptions: { maxRetriesPerRequest: 1 } },
    );
  }

  /** The port of the master that serves `key`'s slot (`CLUSTER KEYSLOT`, `CLUSTER SLOTS`). */
  async portOfKey(key: string): Promise<number> {
    const running = this.ports.find((port) => this.processes.has(port));
    const node = new Redis({ host: '127.0.0.1', port: running, lazyConnect: true });
    try {
      await node.connect();
      const slot = Number(await node.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      node.disconnect();
    }
  }

  /** Every key matching `pattern` on any running master, with the port of the master holding it. */
  async keys(pattern: string): Promise<{ key: string; port: number }[]> {
    const found: { key: string; port: number }[] = [];
    for (const port of this.processes.keys()) {
      const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      try {
        await node.connect();
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          found.push(...keys.map((key) => ({ key, port })));
        } while (cursor !== '0');
      } finally {
        node.disconnect();
      }
    }
    return found;
  }

  /** Kills one master (SIGKILL: a crash; its AOF keeps every acknowledged write). */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (!child) return;
    this.processes.delete(port);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts a killed master again on its port, nodes.conf and AOF, and waits for `cluster_state:ok`. */
  async restart(port: number): Promise<void> {
    await this.launch(port);
    await this.waitUntilOk();
  }

  /** Resolves once every running master reports `cluster_state:ok`. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const port of this.processes.keys()) {
          if ((await this.clusterState(port)) !== 'ok') return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 100, description: 'the Redis Cluster to report cluster_state:ok' },
    );
  }

  /** `cluster_state` as `port` reports it (`ok`, `fail`), or undefined when it does not answer. */
  async clusterState(port: number): Promise<string | undefined> {
    const node = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    node.on('error', () => undefined);
    try {
      await node.connect();
      const info = String(await node.call('CLUSTER', 'INFO'));
      return /cluster_state:(\w+)/.exec(info)?.[1];
    } catch {
      return undefined;
    } finally {
      node.disconnect();
    }
  }

  /** Stops every node and deletes their files. */
  async destroy(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(port: number): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${port}.conf`),
        // A lost master is taken for failed soon (and the cluster for down, having no replica).
        '--cluster-node-timeout',
        '2000',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfilename',
        `appendonly-${port}.aof`,
        '--appenddirname',
        `appendonly-${port}`,
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(new Error(`could not start redis-server on ${port}: ${error.message}`)),
      );
      child.once('exit', (code) =>
        reject(new Error(`redis-server on ${port} exited with code ${code}:\n${output}`)),
      );
    });
    failed.catch(() => undefined);
    this.processes.set(port, child);
    await Promise.race([
      failed,
      waitFor(async () => (await this.clusterState(port)) !== undefined, {
        timeoutMs: 10_000,
        intervalMs: 50,
        description: `redis-server on ${port}`,
      }),
    ]);
  }
}
