import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../wait-for';
import { FakeEspDescription } from './fake-esp-server';

const entry = join(__dirname, '../../dist/fake-esp/cli.js');

describe('fake ESP CLI (built)', () => {
  it('prints one JSON line with the URLs and keys, serves them, and exits 0 on SIGTERM', async () => {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build the testkit first`);
    const child = spawn(
      process.execPath,
      [entry, '--port', '0', '--kit', '5150:1200', '--mailchimp', 'list_x:30:My list'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      const line = await waitFor(() => stdout.includes('\n') && stdout.split('\n')[0], {
        timeoutMs: 10_000,
        description: `the CLI's JSON line (stderr: ${stderr})`,
      });
      const described = JSON.parse(line) as FakeEspDescription;
      expect(described.baseUrls.mailchimp).toBe(`${described.url}/mailchimp/{dc}/3.0`);
      expect(described.accounts).toEqual([
        {
          esp: 'kit',
          apiKey: 'demo-kit-key',
          lists: [{ id: '5150', name: expect.any(String), size: 1200 }],
        },
        {
          esp: 'mailchimp',
          apiKey: 'demo-mailchimp-key-us1',
          lists: [{ id: 'list_x', name: 'My list', size: 30 }],
        },
      ]);
      const response = await fetch(
        `${described.baseUrls.kit}/subscribers?status=all&per_page=1&include_total_count=true`,
        {
          headers: { 'x-kit-api-key': 'demo-kit-key' },
        },
      );
      expect(
        ((await response.json()) as { pagination: { total_count: number } }).pagination.total_count,
      ).toBe(1200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const child = spawn(process.execPath, [entry, '--kit', 'oops'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--kit expects <id>:<size>/);
    expect(stderr).toMatch(/Usage:/);
  });
});
