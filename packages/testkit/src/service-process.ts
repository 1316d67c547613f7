import { ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait-for';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** That output as JSON log lines; throws on a line that is not JSON (our services log only JSON). */
  logLines<T = Record<string, unknown>>(): T[];
  /** Resolves when the process has exited. */
  exited: Promise<ServiceExit>;
  /** Sends `signal` (SIGTERM by default) and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<ServiceExit>;
}

export interface StartServiceOptions {
  /** The built entry point, e.g. `apps/api/dist/main.js`. */
  entry: string;
  env: Record<string, string>;
  cwd?: string;
  /** When set, `startService` resolves only once this URL answers 200. */
  readyUrl?: string;
  readyTimeoutMs?: number;
  /** Options for `node` itself, before the entry (e.g. `--cpu-prof` for a benchmark's profile). */
  nodeArgs?: string[];
}

/**
 * Starts one of our services as a real child process (the way it runs in production), for
 * end-to-end tests, the demo and benchmarks.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.entry],
    {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<ServiceExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const service: ServiceProcess = {
    pid: child.pid ?? -1,
    output: () => output,
    logLines: <T>() =>
      output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as T),
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (!hasExited) child.kill(signal);
      return exited;
    },
  };

  if (options.readyUrl) {
    const url = options.readyUrl;
    try {
      await Promise.race([
        waitFor(
          async () => {
            const response = await fetch(url).catch(() => undefined);
            return response?.status === 200;
          },
          { timeoutMs: options.readyTimeoutMs ?? 30_000, description: `${url} to answer 200` },
        ),
        exited.then((exit) => {
          throw new Error(`the service exited before it was ready (${JSON.stringify(exit)})`);
        }),
      ]);
    } catch (error) {
      await service.stop('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- service output ---\n${output}`);
    }
  }
  return service;
}
