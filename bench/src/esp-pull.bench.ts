/**
 * Pulls a large list from the fake ESP twice, each in a child process of its own so that peak
 * memory is measured cleanly:
 *
 *   raw     undici.request + JSON.parse + following the vendor's cursor: the least any client
 *           does, on the HTTP primitive our client uses (esp-transport.ts);
 *   client  our EspClient (mapping, validation, retries, resumable cursors).
 *
 * Prints subscribers per second and peak RSS for both, and the ratios client/raw, plus the
 * client's live heap after a full GC at 10% of the list against the same at the end: a client
 * that retains nothing per subscriber stays at ≈ 1.0 whatever the list size.
 *
 *   npm run bench -- esp-pull                       kit, 1,000,000 subscribers
 *   npm run bench -- esp-pull --esp all --size 200000        every ESP
 */
import { ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createEspClientRegistry, EspType } from '@subscribernest/shared';
import { FAKE_ESP_DEMO_KEYS } from '@subscribernest/testkit';
import { request } from 'undici';
import { flag, mb } from './bench-args';
import { report } from './bench-report';

const ESPS: EspType[] = ['beehiiv', 'kit', 'mailchimp'];
// The fake CLI's fixed demo keys (see packages/testkit/README.md).
const KEYS: Record<EspType, string> = FAKE_ESP_DEMO_KEYS;
const LIST_IDS: Record<EspType, string> = {
  beehiiv: 'pub_bench',
  kit: '777777',
  mailchimp: 'list_bench',
};

interface PhaseResult {
  phase: 'raw' | 'client';
  count: number;
  seconds: number;
  maxRssMb: number;
  rssAtTenthMb: number;
  rssAtEndMb: number;
  /** Live heap after a full GC: what the pull actually retains, free of GC timing noise. */
  heapAfterGcAtTenthMb: number;
  heapAfterGcAtEndMb: number;
}

// ---------------------------------------------------------------------------------------------
// Child: one phase.

interface BeehiivPage {
  data: unknown[];
  has_more?: boolean;
  next_cursor?: string | null;
}

interface KitPage {
  subscribers: unknown[];
  pagination: { has_next_page: boolean; end_cursor: string | null };
}

/** One GET's body as JSON: nothing between the socket and JSON.parse. */
async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const response = await request(url, { headers });
  return (await response.body.json()) as T;
}

async function rawPull(esp: EspType, baseUrl: string, size: number, onPage: (n: number) => void) {
  const url = (path: string) => `${baseUrl.replace('{dc}', 'us1')}${path}`;
  if (esp === 'beehiiv') {
    let cursor: string | null = null;
    do {
      const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const body: BeehiivPage = await getJson<BeehiivPage>(
        url(`/publications/${LIST_IDS.beehiiv}/subscriptions?${query}`),
        {
          authorization: `Bearer ${KEYS.beehiiv}`,
        },
      );
      onPage(body.data.length);
      cursor = body.has_more ? (body.next_cursor ?? null) : null;
    } while (cursor);
  } else if (esp === 'kit') {
    let after: string | null = null;
    let more = true;
    while (more) {
      const query = `status=all&per_page=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const body: KitPage = await getJson<KitPage>(url(`/subscribers?${query}`), {
        'x-kit-api-key': KEYS.kit,
      });
      onPage(body.subscribers.length);
      more = body.pagination.has_next_page;
      after = body.pagination.end_cursor;
    }
  } else {
    const auth = `Basic ${Buffer.from(`bench:${KEYS.mailchimp}`).toString('base64')}`;
    for (let offset = 0; offset < size;) {
      const body = await getJson<{ members: unknown[]; total_items: number }>(
        // Same request as the client (it trims `_links`), so both phases ask the fake for the same work.
        url(
          `/lists/${LIST_IDS.mailchimp}/members?count=1000&offset=${offset}&exclude_fields=_links,members._links`,
        ),
        { authorization: auth },
      );
      onPage(body.members.length);
      if (body.members.length === 0) break;
      offset += body.members.length;
    }
  }
}

async function clientPull(esp: EspType, baseUrl: string, onPage: (n: number) => void) {
  const registry = createEspClientRegistry({
    BEEHIIV_API_URL: baseUrl,
    KIT_API_URL: baseUrl,
    MAILCHIMP_API_URL: baseUrl,
  });
  const client = registry.get(esp);
  const credentials = { apiKey: KEYS[esp], publicationId: LIST_IDS[esp] };
  for await (const page of client.streamSubscribers(credentials, null)) {
    onPage(page.subscribers.length);
  }
}

async function runPhase(): Promise<void> {
  const phase = flag('phase', 'client') as PhaseResult['phase'];
  const esp = flag('esp', 'kit') as EspType;
  const baseUrl = flag('base-url', '');
  const size = Number(flag('size', '0'));
  let count = 0;
  let rssAtTenth = 0;
  let heapAtTenth = 0;
  let maxRss = 0;
  const liveHeap = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  };
  const onPage = (n: number) => {
    count += n;
    const rss = process.memoryUsage.rss();
    if (rss > maxRss) maxRss = rss;
    if (!rssAtTenth && count >= size / 10) {
      rssAtTenth = rss;
      heapAtTenth = liveHeap();
    }
  };
  const started = process.hrtime.bigint();
  if (phase === 'raw') await rawPull(esp, baseUrl, size, onPage);
  else await clientPull(esp, baseUrl, onPage);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: PhaseResult = {
    phase,
    count,
    seconds,
    maxRssMb: mb(Math.max(maxRss, process.resourceUsage().maxRSS * 1024)),
    rssAtTenthMb: mb(rssAtTenth),
    rssAtEndMb: mb(process.memoryUsage.rss()),
    heapAfterGcAtTenthMb: mb(heapAtTenth),
    heapAfterGcAtEndMb: mb(liveHeap()),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent: start the fake in its own process, run both phases per ESP, print the ratios.

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing`)));
  });
}

async function runChild(args: string[]): Promise<PhaseResult> {
  const child = spawn(process.execPath, ['--expose-gc', __filename, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(await firstLine(child)) as PhaseResult;
}

async function main(): Promise<void> {
  const size = Number(flag('size', '1000000'));
  const which = flag('esp', 'kit');
  const esps = which === 'all' ? ESPS : [which as EspType];
  const fakeCli = join(
    dirname(require.resolve('@subscribernest/testkit/package.json')),
    'dist/fake-esp/cli.js',
  );
  // The CLI records no requests, so the fake's own memory stays flat too.
  const fakeArgs = ['--port', '0'];
  for (const esp of esps) fakeArgs.push(`--${esp}`, `${LIST_IDS[esp]}:${size}`);
  const fake = spawn(process.execPath, [fakeCli, ...fakeArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const { baseUrls } = JSON.parse(await firstLine(fake)) as { baseUrls: Record<EspType, string> };
    console.log(`ESP pull benchmark: ${size.toLocaleString('en-US')} subscribers per list`);
    console.log(
      'esp        phase   subscribers  seconds  subs/s     peak RSS MB  RSS@10% MB  RSS@end MB',
    );
    const figures: Record<string, { raw: PhaseResult; client: PhaseResult }> = {};
    for (const esp of esps) {
      const common = ['--esp', esp, '--base-url', baseUrls[esp], '--size', String(size)];
      const raw = await runChild(['--phase', 'raw', ...common]);
      const client = await runChild(['--phase', 'client', ...common]);
      figures[esp] = { raw, client };
      for (const r of [raw, client]) {
        console.log(
          [
            esp.padEnd(10),
            r.phase.padEnd(7),
            String(r.count).padStart(11),
            r.seconds.toFixed(2).padStart(8),
            String(Math.round(r.count / r.seconds)).padStart(9),
            String(r.maxRssMb).padStart(12),
            String(r.rssAtTenthMb).padStart(11),
            String(r.rssAtEndMb).padStart(11),
          ].join('  '),
        );
      }
      if (client.count !== size)
        throw new Error(`${esp}: client pulled ${client.count}, expected ${size}`);
      console.log(
        `${esp}: client/raw throughput ${(client.count / client.seconds / (raw.count / raw.seconds)).toFixed(2)}, ` +
          `client/raw peak RSS ${(client.maxRssMb / raw.maxRssMb).toFixed(2)}, ` +
          `client live heap after GC end/10% ${(client.heapAfterGcAtEndMb / client.heapAfterGcAtTenthMb).toFixed(2)} ` +
          `(${client.heapAfterGcAtTenthMb} → ${client.heapAfterGcAtEndMb} MB; flat ≈ 1)`,
      );
    }
    report({ bench: 'esp-pull', size, esps: figures });
  } finally {
    fake.kill('SIGTERM');
  }
}

const entry = process.argv.includes('--phase') ? runPhase : main;
entry().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
