import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './compose';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
}
interface Workflow {
  on: unknown;
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
}

const workflow = parse(
  readFileSync(join(REPO_ROOT, '.github/workflows/ci.yml'), 'utf8'),
) as Workflow;
const rootScripts = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const commands = steps.flatMap((step) => (step.run ?? '').split('\n')).map((line) => line.trim());

describe('.github/workflows/ci.yml', () => {
  it('parses, with jobs that each run steps on a GitHub runner', () => {
    expect(workflow.on).toBeDefined();
    expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toEqual(expect.any(String));
      expect(job.steps.length).toBeGreaterThan(0);
    }
  });

  it('names only npm scripts and files that exist', () => {
    const scripts = commands.flatMap((line) =>
      [...line.matchAll(/npm run (\S+)/g)].map((m) => m[1]),
    );
    for (const script of scripts) expect(Object.keys(rootScripts)).toContain(script);
    const files = commands.flatMap((line) =>
      [...line.matchAll(/\b(?:bash|sh|node) (\S+)/g)].map((m) => m[1]),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(join(REPO_ROOT, file))).toBe(true);
    expect(readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('installs redis-server and prometheus, builds the images, then runs the test command', () => {
    const at = (pattern: RegExp) => commands.findIndex((line) => pattern.test(line));
    expect(at(/apt-get install .*redis-server/)).toBeGreaterThanOrEqual(0);
    expect(at(/apt-get install .*\bprometheus\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/docker compose build/)).toBeGreaterThan(at(/apt-get install/));
    expect(at(/bash \.ci\/run/)).toBeGreaterThan(at(/docker compose build/));
  });
});
