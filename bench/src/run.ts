/**
 * The one entry point of every benchmark: `npm run bench -- <name> [options]`. Each benchmark
 * runs as a child process of its own (it may start more), with the options after its name;
 * `--help` prints what each one measures and takes, and runs nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

interface Bench {
  file: string;
  measures: string;
  options: string[];
}

export const BENCHES: Record<string, Bench> = {
  api: {
    file: 'api.bench.js',
    measures:
      'GET …/subscribers?limit=50 by cursor (walking nextCursor) and by shallow page= through ' +
      'the built api, with autocannon, against GET /health and the raw keyset SELECT (req/s, ' +
      'latency at a small and a large list; cursor/health and large/small last)',
    options: [
      '--small N --large N               list sizes (default 200000 and 2000000)',
      '--duration S                      seconds per route (default 10)',
      '--connections N                   concurrent HTTP connections (default 10)',
      '--cpu-prof DIR                    a V8 CPU profile of the api over the whole run, in DIR',
      '--json                            the figures as one JSON line on stdout',
    ],
  },
  counts: {
    file: 'subscriber-counts.bench.js',
    measures:
      'the cost of the subscriber_counts triggers on the sync upsert: 1,000-row unnest upserts ' +
      'with the triggers disabled and enabled, in turns on the same table (rows/s, ratio)',
    options: [
      '--size N                          rows per pass (default 200000)',
      '--rounds N                        alternations of without/with (default 2)',
      '--json                            the figures as one JSON line on stdout',
    ],
  },
  'esp-pull': {
    file: 'esp-pull.bench.js',
    measures:
      'our ESP clients pulling a list from the fake ESP against a raw fetch + JSON.parse loop ' +
      '(subscribers/s, peak RSS, live heap at 10% and at the end)',
    options: [
      '--esp beehiiv|kit|mailchimp|all   (default kit)',
      '--size N                          subscribers (default 1000000)',
      '--json                            the figures as one JSON object, the last line',
    ],
  },
  export: {
    file: 'export.bench.js',
    measures:
      'GET …/subscribers/export through the built api against COPY TO + a decrypt loop ' +
      '(rows/s, peak RSS at a small and a large list)',
    options: [
      '--format csv|json|xlsx|all        (default csv)',
      '--small N --large N               list sizes (default 200000 and 1000000)',
      '--cpu-prof DIR                    a V8 CPU profile of each api export, written to DIR',
      '--json                            the figures as one JSON object, the last line',
    ],
  },
  fanout: {
    file: 'fanout.bench.js',
    measures:
      'a manual midnight-sync tick through the built worker against raw BullMQ addBulk of the ' +
      'same jobs, with the deployed job options (raw) and without (bare) (jobs/s, worker peak ' +
      'RSS at a small and a large number of connections)',
    options: [
      '--small N --large N               connections (default 10000 and 100000)',
      '--cpu-prof DIR                    a V8 CPU profile of the worker at each size, written to DIR',
      '--node-args "<flags>"             extra node options for the worker',
      '--json                            the figures as one JSON object, the last line',
    ],
  },
  sync: {
    file: 'sync.bench.js',
    measures:
      'a first sync, an unchanged re-sync and a re-sync after 1% changed, through the built ' +
      'worker, against 1,000-row unnest upserts, COPY and per-row SELECT+INSERT of the same ' +
      'rows on the same table (subs/s, ratios, re-sync speed-up, worker CPU and peak RSS, row checks)',
    options: [
      '--esp beehiiv|kit|mailchimp|all   (default beehiiv)',
      '--size N                          subscribers (default 200000)',
      '--per-row-sample N                rows for the per-row baseline (default 20000)',
      '--repeat N                        unchanged re-syncs to run, the median reported (default 1)',
      '--cpu-prof DIR                    a V8 CPU profile of the worker over its syncs, in DIR',
      '--node-args "FLAGS"               extra node options for the worker (heap tuning trials)',
      '--json                            the figures as one JSON object, the last line',
    ],
  },
  incremental: {
    file: 'incremental-sync.bench.js',
    measures:
      'an incremental re-sync with 1% of the list changed against a full pass, through the ' +
      'built worker (requests, wall time, rows differing)',
    options: [
      '--esp mailchimp|kit               (default mailchimp)',
      '--size N                          subscribers (default 1000000)',
      '--json                            the figures as one JSON object, the last line',
    ],
  },
};

export function usage(only?: string): string {
  const names = only ? [only] : Object.keys(BENCHES);
  const lines = only ? [] : ['usage: npm run bench -- <name> [options]', '', 'benchmarks:'];
  for (const name of names) {
    const bench = BENCHES[name];
    lines.push(`  ${name}: ${bench.measures}`);
    for (const option of bench.options) lines.push(`      ${option}`);
  }
  lines.push(
    '',
    'Each prints its figures and the ratios against its raw baseline, measured in the same run.',
    'Needs Postgres and Redis (npm run services); the npm script builds what the bench runs.',
  );
  return lines.join('\n');
}

function main(): void {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    process.exit(name === undefined ? 1 : 0);
  }
  if (!(name in BENCHES)) {
    console.error(`bench: no benchmark named "${name}"\n\n${usage()}`);
    process.exit(2);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(usage(name));
    return;
  }
  const child = spawn(process.execPath, [join(__dirname, BENCHES[name].file), ...rest], {
    stdio: 'inherit',
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (require.main === module) main();
