import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './ports';
import { waitFor } from './wait-for';

export interface RedisServerOptions {
  /** `appendonly yes` (fsync every write), so a restart keeps every acknowledged job. */
  appendOnly?: boolean;
  /** `maxmemory` with `noeviction`, e.g. `'1mb'`: writes then fail with OOM, reads still work. */
  maxMemory?: string;
}

/**
 * A `redis-server` of a test's own, on a free port with its data in a temporary folder: for the
 * tests that stop, restart or starve Redis, which must never touch the shared one. Needs Debian's
 * `redis-server` on the PATH (scripts/services.sh installs it).
 */
export class RedisServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'sn-redis-'));
    const server = new RedisServer(await freePort(), dir, options);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== null;
  }

  /** Stops the server: SIGTERM (Redis flushes the append-only file) or SIGKILL (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Starts it again on the same port and data folder. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops it and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
    ];
    if (this.options.maxMemory) {
      args.push('--maxmemory', this.options.maxMemory, '--maxmemory-policy', 'noeviction');
    }
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(
          new Error(
            `could not start redis-server (${error.message}); install Debian's redis-server package`,
          ),
        ),
      );
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with code ${code}:\n${output}`)),
      );
    });
    failed.catch(() => undefined);
    this.process = child;
    await Promise.race([failed, waitFor(() => this.ping(), { description: 'redis-server' })]);
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}
