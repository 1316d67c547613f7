import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
export const TEST_OVERRIDE = join(REPO_ROOT, 'deployment', 'docker-compose.test.yml');

/**
 * Whether `docker compose version` works: enough for `docker compose config`, which needs no
 * engine. Synchronous, so a suite can choose `describe.skip` when it is defined and jest reports
 * the tests as skipped, not as passed.
 */
export function composeAvailable(): boolean {
  return succeeds(['compose', 'version']);
}

/**
 * Whether a container engine answers the docker CLI (`docker version` reports a server): what
 * `up` needs. A machine can have the CLI and its compose plugin with no engine behind them, or
 * with DOCKER_HOST unset for the one it has.
 */
export function engineAvailable(): boolean {
  return succeeds(['version', '--format', '{{.Server.Version}}']);
}

function succeeds(args: string[]): boolean {
  return spawnSync('docker', args, { timeout: 20_000, stdio: 'ignore' }).status === 0;
}

/** An empty env file, so compose reads no developer's .env and only the variables we pass. */
export function emptyEnvFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sn-compose-')), 'empty.env');
  writeFileSync(path, '');
  return path;
}

/** One compose project (its own containers, networks and volumes) on the two files. */
export class ComposeProject {
  private readonly envFile = emptyEnvFile();

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  async compose(args: string[], timeoutMs = 120_000): Promise<string> {
    const { stdout } = await run(
      'docker',
      [
        'compose',
        '-p',
        this.name,
        '--env-file',
        this.envFile,
        '-f',
        COMPOSE_FILE,
        '-f',
        TEST_OVERRIDE,
        ...args,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return stdout;
  }

  /** One SQL statement through psql in the postgres container; rows as arrays of strings. */
  async sql(statement: string): Promise<string[][]> {
    const out = await this.compose([
      'exec',
      '-T',
      'postgres',
      'psql',
      '-U',
      'postgres',
      '-d',
      'subscribernest',
      '-At',
      '-F',
      '\t',
      '-c',
      statement,
    ]);
    return out
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => line.split('\t'));
  }
}
