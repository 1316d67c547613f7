import { FakeAccountSpec, FakeEspType, FakeFaults, FakeListSpec } from './fake-esp-types';

/** The fixed keys the CLI's accounts use (extra Kit accounts get '-2', '-3', ...). */
export const FAKE_ESP_DEMO_KEYS: Record<FakeEspType, string> = {
  beehiiv: 'demo-beehiiv-key',
  kit: 'demo-kit-key',
  mailchimp: 'demo-mailchimp-key-us1',
};

export const FAKE_ESP_CLI_USAGE = `Usage: node packages/testkit/dist/fake-esp/cli.js [options]

  --port <n>                   listen port (default 4200; 0 picks a free one)
  --host <address>             listen address (default 127.0.0.1)
  --tls-key <file>             PEM key: serve HTTPS (needs --tls-cert)
  --tls-cert <file>            PEM certificate for --tls-key
  --beehiiv <id>:<size>[:name] a beehiiv publication; repeatable, one account (${FAKE_ESP_DEMO_KEYS.beehiiv})
  --kit <id>:<size>[:name]     a Kit account (its one list); repeatable (${FAKE_ESP_DEMO_KEYS.kit}, ${FAKE_ESP_DEMO_KEYS.kit}-2, ...)
  --mailchimp <id>:<size>[:name] a Mailchimp list; repeatable, one account (${FAKE_ESP_DEMO_KEYS.mailchimp})
  --beehiiv-pagination <mode>  top-level (default) or nested
  --seed <n>                   seed for every list (default: derived from each list id)
  --other-status-every <n>     every nth subscriber has a status our model does not sync
  --latency-ms <n>             delay added to every request touching a list (default 0)
  --rate-limit-every <n>       every nth request touching a list answers 429
  --retry-after <seconds>      seconds those 429s ask to wait (default 1)
  --omit-retry-after           those 429s carry no Retry-After (beehiiv: RateLimit-Reset only)
  --rate-limits <mode>         documented: enforce every vendor's documented request limit with
                               429s (beehiiv 180/min, Kit 120/min per key, Mailchimp 10 in
                               flight); default: Mailchimp's 10 in flight only
  --help                       this text

Sizes accept k and m suffixes (250k, 1m). Without any list flag the demo set is served:
--beehiiv pub_demo:5000 --kit 424242:2000 --mailchimp list_demo:3000.
On start one JSON line is printed: {url, baseUrls, accounts:[{esp, apiKey, lists}]}.
`;

export interface FakeEspCliOptions {
  help: boolean;
  port: number;
  host: string;
  accounts: FakeAccountSpec[];
  tlsKeyPath?: string;
  tlsCertPath?: string;
  rateLimits?: 'documented';
}

const DEMO_LISTS: Record<FakeEspType, string> = {
  beehiiv: 'pub_demo:5000',
  kit: '424242:2000',
  mailchimp: 'list_demo:3000',
};

/** Parses the CLI's flags; throws an Error naming the bad flag. */
export function parseFakeEspCliArgs(argv: readonly string[]): FakeEspCliOptions {
  const lists: Record<FakeEspType, string[]> = { beehiiv: [], kit: [], mailchimp: [] };
  const options: FakeEspCliOptions = { help: false, port: 4200, host: '127.0.0.1', accounts: [] };
  const faults: FakeFaults = {};
  let seed: number | undefined;
  let otherStatusEvery: number | undefined;
  let pagination: 'top-level' | 'nested' = 'top-level';

  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitFlag(argv[i]);
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || (inline === undefined && next.startsWith('--'))) {
        throw new Error(`${flag} needs a value`);
      }
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--port':
        options.port = integer(flag, value(), 0, 65_535);
        break;
      case '--host':
        options.host = value();
        break;
      case '--tls-key':
        options.tlsKeyPath = value();
        break;
      case '--tls-cert':
        options.tlsCertPath = value();
        break;
      case '--beehiiv':
      case '--kit':
      case '--mailchimp':
        lists[flag.slice(2) as FakeEspType].push(value());
        break;
      case '--beehiiv-pagination': {
        const mode = value();
        if (mode !== 'top-level' && mode !== 'nested') {
          throw new Error('--beehiiv-pagination must be top-level or nested');
        }
        pagination = mode;
        break;
      }
      case '--seed':
        seed = integer(flag, value(), 0, 0xffff_ffff);
        break;
      case '--other-status-every':
        otherStatusEvery = integer(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--latency-ms':
        faults.latencyMs = integer(flag, value(), 0, 600_000);
        break;
      case '--rate-limit-every':
        faults.rateLimitEvery = integer(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--retry-after':
        faults.retryAfterSeconds = integer(flag, value(), 0, 86_400);
        break;
      case '--rate-limits': {
        const mode = value();
        if (mode !== 'documented') throw new Error('--rate-limits expects documented');
        options.rateLimits = mode;
        break;
      }
      case '--omit-retry-after':
        if (inline !== undefined) throw new Error(`${flag} takes no value`);
        faults.omitRetryAfter = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }

  if ((options.tlsKeyPath === undefined) !== (options.tlsCertPath === undefined)) {
    throw new Error('--tls-key and --tls-cert go together');
  }
  if (lists.beehiiv.length + lists.kit.length + lists.mailchimp.length === 0) {
    for (const esp of Object.keys(DEMO_LISTS) as FakeEspType[]) lists[esp].push(DEMO_LISTS[esp]);
  }
  const hasFaults = Object.values(faults).some((v) => v !== undefined && v !== 0);
  const list = (esp: FakeEspType, text: string): FakeListSpec => ({
    ...parseList(esp, text),
    ...(seed !== undefined ? { seed } : {}),
    ...(otherStatusEvery !== undefined ? { otherStatusEvery } : {}),
    ...(hasFaults ? { faults: { ...faults } } : {}),
  });
  if (lists.beehiiv.length > 0) {
    options.accounts.push({
      esp: 'beehiiv',
      apiKey: FAKE_ESP_DEMO_KEYS.beehiiv,
      lists: lists.beehiiv.map((text) => list('beehiiv', text)),
      beehiivPagination: pagination,
    });
  }
  lists.kit.forEach((text, n) => {
    options.accounts.push({
      esp: 'kit',
      apiKey: n === 0 ? FAKE_ESP_DEMO_KEYS.kit : `${FAKE_ESP_DEMO_KEYS.kit}-${n + 1}`,
      lists: [list('kit', text)],
    });
  });
  if (lists.mailchimp.length > 0) {
    options.accounts.push({
      esp: 'mailchimp',
      apiKey: FAKE_ESP_DEMO_KEYS.mailchimp,
      lists: lists.mailchimp.map((text) => list('mailchimp', text)),
    });
  }
  return options;
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

function parseList(esp: FakeEspType, text: string): FakeListSpec {
  const [id, size, ...name] = text.split(':');
  if (!id || size === undefined)
    throw new Error(`--${esp} expects <id>:<size>[:name], got '${text}'`);
  const match = /^(\d[\d_]*)([km]?)$/i.exec(size);
  if (!match) throw new Error(`--${esp} ${text}: size must be a number (k and m suffixes allowed)`);
  const unit = { '': 1, k: 1_000, m: 1_000_000 }[match[2].toLowerCase() as '' | 'k' | 'm'];
  return {
    id,
    name: name.length > 0 ? name.join(':') : `Demo ${esp} list ${id}`,
    size: Number(match[1].replace(/_/g, '')) * unit,
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}`);
  }
  return n;
}
