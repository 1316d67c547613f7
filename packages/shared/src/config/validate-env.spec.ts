import { randomBytes } from 'node:crypto';
import { ConfigValidationError } from './config-validation.error';
import { ApiEnv, WorkerEnv } from './env.schema';
import { validateEnv } from './validate-env';

const valid = () => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/subscribernest',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
  HMAC_KEY: randomBytes(32).toString('base64'),
});

function problemsOf(raw: Record<string, unknown>, schema: new () => object = ApiEnv) {
  try {
    validateEnv(schema, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('validateEnv', () => {
  it('fills defaults and converts numbers', () => {
    const env = validateEnv(ApiEnv, { ...valid(), PORT: '4010' });
    expect(env.PORT).toBe(4010);
    expect(env.CORS_ORIGINS).toBe('http://localhost:3000');
    expect(env.ACCOUNT_DELETION_GRACE_DAYS).toBe('30');
    expect(env.QUEUE_PREFIX).toBe('sn');
    expect(env.NODE_ENV).toBe('development');
    expect(validateEnv(WorkerEnv, valid()).OPS_PORT).toBe(4100);
    expect(validateEnv(WorkerEnv, valid()).DOMAIN_EVENTS_CONCURRENCY).toBe(10);
    expect(
      validateEnv(WorkerEnv, { ...valid(), DOMAIN_EVENTS_CONCURRENCY: '3' })
        .DOMAIN_EVENTS_CONCURRENCY,
    ).toBe(3);
    expect(validateEnv(ApiEnv, valid()).PORT).toBe(4000);
  });

  it('takes a Redis Cluster URL with a hash-tagged QUEUE_PREFIX', () => {
    const env = validateEnv(WorkerEnv, {
      ...valid(),
      REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000',
      QUEUE_PREFIX: '{sn}',
    });
    expect(env.REDIS_URL).toBe('redis+cluster://10.0.0.1:7000,10.0.0.2:7000');
    expect(env.QUEUE_PREFIX).toBe('{sn}');
    // A hash tag is fine on one server too (the keys a cluster will have).
    expect(validateEnv(ApiEnv, { ...valid(), QUEUE_PREFIX: '{sn}' }).QUEUE_PREFIX).toBe('{sn}');
  });

  it.each([
    [
      { REDIS_URL: 'redis+cluster://10.0.0.1:7000' },
      'QUEUE_PREFIX must be a Redis Cluster hash tag such as {sn} when REDIS_URL is a ' +
        'redis+cluster:// URL: every key of a BullMQ queue has to hash to one slot',
    ],
    [
      { REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2', QUEUE_PREFIX: '{sn}' },
      'REDIS_URL must be redis+cluster://host:port,host:port[,…] ("10.0.0.2" is not a host:port)',
    ],
    [
      { REDIS_URL: 'redis+cluster://u:secret@10.0.0.1:7000/1', QUEUE_PREFIX: '{sn}' },
      'REDIS_URL must be redis+cluster://host:port,host:port[,…] (a cluster URL takes no ' +
        'database, path or query: a cluster has only db 0)',
    ],
  ])('refuses a cluster configuration with one line: %j', (overrides, message) => {
    const error = problemsOf({ ...valid(), ...overrides }, WorkerEnv);
    expect(error.problems).toEqual([message]);
    expect(error.message).not.toContain('secret');
  });

  it('defaults the outbox sweep interval to 5 s and reads overrides', () => {
    expect(validateEnv(WorkerEnv, valid()).OUTBOX_SWEEP_INTERVAL_MS).toBe(5_000);
    expect(
      validateEnv(WorkerEnv, { ...valid(), OUTBOX_SWEEP_INTERVAL_MS: '250' })
        .OUTBOX_SWEEP_INTERVAL_MS,
    ).toBe(250);
  });

  it.each([
    ['99', 'OUTBOX_SWEEP_INTERVAL_MS must not be less than 100'],
    ['3600001', 'OUTBOX_SWEEP_INTERVAL_MS must not be greater than 3600000'],
  ])('names OUTBOX_SWEEP_INTERVAL_MS when it is %s', (value, message) => {
    const error = problemsOf({ ...valid(), OUTBOX_SWEEP_INTERVAL_MS: value }, WorkerEnv);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(message);
  });

  it('defaults the pool size and the export limits, and reads overrides', () => {
    expect(validateEnv(WorkerEnv, valid()).DATABASE_POOL_SIZE).toBe(10);
    expect(validateEnv(ApiEnv, valid())).toMatchObject({
      DATABASE_POOL_SIZE: 10,
      EXPORT_MAX_CONCURRENT: 4,
      EXPORT_MAX_PER_USER: 2,
      EXPORT_IDLE_TIMEOUT_MS: 30_000,
    });
    expect(
      validateEnv(ApiEnv, {
        ...valid(),
        DATABASE_POOL_SIZE: '20',
        EXPORT_MAX_CONCURRENT: '8',
        EXPORT_MAX_PER_USER: '1',
        EXPORT_IDLE_TIMEOUT_MS: '5000',
      }),
    ).toMatchObject({
      DATABASE_POOL_SIZE: 20,
      EXPORT_MAX_CONCURRENT: 8,
      EXPORT_MAX_PER_USER: 1,
      EXPORT_IDLE_TIMEOUT_MS: 5_000,
    });
  });

  it.each([
    ['DATABASE_POOL_SIZE', '0', 'DATABASE_POOL_SIZE must not be less than 1'],
    ['EXPORT_MAX_CONCURRENT', '0', 'EXPORT_MAX_CONCURRENT must not be less than 1'],
    ['EXPORT_MAX_PER_USER', '101', 'EXPORT_MAX_PER_USER must not be greater than 100'],
    ['EXPORT_IDLE_TIMEOUT_MS', '50', 'EXPORT_IDLE_TIMEOUT_MS must not be less than 100'],
  ])('names %s when it is %s', (name, value, message) => {
    const error = problemsOf({ ...valid(), [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(message);
  });

  it('defaults the ESP settings to the real APIs and reads overrides', () => {
    expect(validateEnv(WorkerEnv, valid())).toMatchObject({
      BEEHIIV_API_URL: 'https://api.beehiiv.com/v2',
      KIT_API_URL: 'https://api.kit.com/v4',
      MAILCHIMP_API_URL: 'https://{dc}.api.mailchimp.com/3.0',
      ESP_REQUEST_TIMEOUT_MS: 30_000,
      ESP_MAX_RETRIES: 4,
      ESP_MAX_INLINE_WAIT_MS: 10_000,
    });
    const env = validateEnv(ApiEnv, {
      ...valid(),
      MAILCHIMP_API_URL: 'http://127.0.0.1:4500/mailchimp/{dc}/3.0',
      ESP_MAX_RETRIES: '0',
    });
    expect(env.MAILCHIMP_API_URL).toBe('http://127.0.0.1:4500/mailchimp/{dc}/3.0');
    expect(env.ESP_MAX_RETRIES).toBe(0);
  });

  it.each(['DATABASE_URL', 'REDIS_URL', 'ENCRYPTION_KEY', 'HMAC_KEY'])(
    'names %s when it is missing, in one line',
    (name) => {
      const raw: Record<string, unknown> = valid();
      delete raw[name];
      const error = problemsOf(raw);
      expect(error.message).toBe(`Invalid configuration: ${name} is required`);
      expect(error.message).not.toContain('\n');
    },
  );

  it('treats an empty value as missing', () => {
    expect(problemsOf({ ...valid(), DATABASE_URL: '' }).problems).toEqual([
      'DATABASE_URL is required',
    ]);
  });

  it.each([
    ['PORT', 'eighty', 'PORT must be an integer between 1 and 65535'],
    [
      'ACCOUNT_DELETION_GRACE_DAYS',
      '0',
      'ACCOUNT_DELETION_GRACE_DAYS must be a whole number of days from 1 to 365',
    ],
    [
      'ACCOUNT_DELETION_GRACE_DAYS',
      '1e2',
      'ACCOUNT_DELETION_GRACE_DAYS must be a whole number of days from 1 to 365',
    ],
    ['PORT', '70000', 'PORT must be an integer between 1 and 65535'],
    ['DATABASE_URL', 'mysql://localhost/x', 'DATABASE_URL must be a URL starting with postgres://'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must be a URL starting with redis://'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['QUEUE_PREFIX', 'has spaces', 'QUEUE_PREFIX must be 1-64 letters'],
    ['KIT_API_URL', 'api.kit.com/v4', 'KIT_API_URL must be a URL starting with https://'],
    ['ESP_REQUEST_TIMEOUT_MS', '0', 'ESP_REQUEST_TIMEOUT_MS must not be less than 1'],
    ['ESP_MAX_RETRIES', '11', 'ESP_MAX_RETRIES must not be greater than 10'],
    ['ESP_MAX_INLINE_WAIT_MS', '-1', 'ESP_MAX_INLINE_WAIT_MS must not be less than 0'],
    ['HMAC_KEY', randomBytes(8).toString('base64'), 'HMAC_KEY must decode to 32 bytes, got 8'],
    [
      'ENCRYPTION_KEY',
      randomBytes(32).toString('base64'),
      'ENCRYPTION_KEY must look like <key id>:',
    ],
  ])('names %s when it is malformed', (name, value, message) => {
    const error = problemsOf({ ...valid(), [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(message);
  });

  it.each([
    ['0', 'DOMAIN_EVENTS_CONCURRENCY must not be less than 1'],
    ['101', 'DOMAIN_EVENTS_CONCURRENCY must not be greater than 100'],
  ])('names DOMAIN_EVENTS_CONCURRENCY when it is %s', (value, message) => {
    const error = problemsOf({ ...valid(), DOMAIN_EVENTS_CONCURRENCY: value }, WorkerEnv);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(message);
  });

  it('never repeats a secret value in its message', () => {
    const secret = randomBytes(20).toString('base64');
    const error = problemsOf({ ...valid(), HMAC_KEY: secret, ENCRYPTION_KEY: `k1:${secret}` });
    expect(error.message).not.toContain(secret);
  });

  it('reports every problem at once', () => {
    const error = problemsOf({ OPS_PORT: '0' }, WorkerEnv);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'DATABASE_URL is required',
        'REDIS_URL is required',
        'ENCRYPTION_KEY is required',
        'HMAC_KEY is required',
        'OPS_PORT must be an integer between 1 and 65535',
      ]),
    );
  });

  it('reads SYNC_CONCURRENCY: default 2, bounded 1-50', () => {
    expect(validateEnv(WorkerEnv, valid()).SYNC_CONCURRENCY).toBe(2);
    expect(validateEnv(WorkerEnv, { ...valid(), SYNC_CONCURRENCY: '4' }).SYNC_CONCURRENCY).toBe(4);
    expect(problemsOf({ ...valid(), SYNC_CONCURRENCY: '0' }, WorkerEnv).problems).toEqual([
      'SYNC_CONCURRENCY must not be less than 1',
    ]);
    expect(problemsOf({ ...valid(), SYNC_CONCURRENCY: '51' }, WorkerEnv).problems).toHaveLength(1);
  });

  it('reads TRUST_PROXY as Express wants it: off by default, booleans, hop counts, address lists', () => {
    const trustProxy = (value?: string) =>
      validateEnv(ApiEnv, value === undefined ? valid() : { ...valid(), TRUST_PROXY: value })
        .TRUST_PROXY;
    expect(trustProxy()).toBe(false);
    expect(trustProxy('')).toBe(false);
    expect(trustProxy('false')).toBe(false);
    expect(trustProxy('TRUE')).toBe(true);
    expect(trustProxy('0')).toBe(0);
    expect(trustProxy(' 2 ')).toBe(2);
    expect(trustProxy('10.0.0.0/8, 192.168.1.7,loopback')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
    ]);
    expect(trustProxy('fd00::/8,::1,uniquelocal,linklocal')).toEqual([
      'fd00::/8',
      '::1',
      'uniquelocal',
      'linklocal',
    ]);
  });

  it.each([
    ['yes', '"yes" is not an IP address, subnet or named range'],
    ['-1', '"-1" is not an IP address, subnet or named range'],
    ['1.5', '"1.5" is not an IP address, subnet or named range'],
    ['11', 'hop count 11 is more than 10'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not an IP address, subnet or named range'],
    ['10.0.0.1,', '"" is not an IP address, subnet or named range'],
    ['10.0.0.256', '"10.0.0.256" is not an IP address, subnet or named range'],
    ['fd00::/129', '"fd00::/129" is not an IP address, subnet or named range'],
  ])('names TRUST_PROXY in one line when it is %p', (value, reason) => {
    const error = problemsOf({ ...valid(), TRUST_PROXY: value });
    expect(error.problems).toEqual([
      'TRUST_PROXY must be true, false, a hop count (0-10) or a comma-separated list of proxy ' +
        `IP addresses/subnets (${reason})`,
    ]);
    expect(error.message).not.toContain('\n');
  });

  it('reads the email settings: defaults, SMTP URL schemes, and SMTP_URL required in production', () => {
    expect(validateEnv(WorkerEnv, valid())).toMatchObject({
      EMAIL_FROM: 'SubscriberNest <no-reply@subscribernest.local>',
      EMAIL_OUTBOX_DIR: 'var/mail',
      EMAIL_CONCURRENCY: 5,
    });
    expect(validateEnv(WorkerEnv, valid()).SMTP_URL).toBeUndefined();
    expect(
      validateEnv(WorkerEnv, { ...valid(), SMTP_URL: 'smtps://u:p@mail.example.com:465' }).SMTP_URL,
    ).toBe('smtps://u:p@mail.example.com:465');
    expect(problemsOf({ ...valid(), SMTP_URL: 'http://mail' }, WorkerEnv).problems).toEqual([
      'SMTP_URL must be a URL starting with smtp:// or smtps://',
    ]);
    expect(problemsOf({ ...valid(), EMAIL_CONCURRENCY: '0' }, WorkerEnv).problems).toHaveLength(1);
    const production = problemsOf({ ...valid(), NODE_ENV: 'production' }, WorkerEnv);
    expect(production.message).toBe('Invalid configuration: SMTP_URL is required');
    expect(
      validateEnv(WorkerEnv, {
        ...valid(),
        NODE_ENV: 'production',
        SMTP_URL: 'smtps://mail.internal:465',
      }).SMTP_URL,
    ).toBe('smtps://mail.internal:465');
  });
});

describe('validateEnv: HOST', () => {
  it('defaults to 0.0.0.0 (every interface) and reads addresses and host names', () => {
    expect(validateEnv(ApiEnv, valid()).HOST).toBe('0.0.0.0');
    expect(validateEnv(WorkerEnv, valid()).HOST).toBe('0.0.0.0');
    for (const host of ['127.0.0.1', '::', '::1', 'localhost', 'api.internal']) {
      expect(validateEnv(WorkerEnv, { ...valid(), HOST: host }).HOST).toBe(host);
    }
    expect(validateEnv(ApiEnv, { ...valid(), HOST: ' 127.0.0.1 ' }).HOST).toBe('127.0.0.1');
  });

  it.each(['not a host', 'http://127.0.0.1', '127.0.0.1:4000', '-bad.example', 'a..b'])(
    'names HOST in one line when it is %p',
    (host) => {
      const error = problemsOf({ ...valid(), HOST: host });
      expect(error.problems).toEqual([
        'HOST must be an IP address or host name to listen on ' +
          '(0.0.0.0: every interface; 127.0.0.1: this machine only)',
      ]);
    },
  );
});

describe('validateEnv: TLS in production', () => {
  const production = () => ({
    ...valid(),
    NODE_ENV: 'production',
    SMTP_URL: 'smtps://u:p@mail.example.com:465',
  });
  const ESP_URLS = ['BEEHIIV_API_URL', 'KIT_API_URL', 'MAILCHIMP_API_URL'];

  it('accepts the defaults (every ESP over https://) with an smtps:// server', () => {
    expect(validateEnv(WorkerEnv, production())).toMatchObject({
      BEEHIIV_API_URL: 'https://api.beehiiv.com/v2',
      KIT_API_URL: 'https://api.kit.com/v4',
      MAILCHIMP_API_URL: 'https://{dc}.api.mailchimp.com/3.0',
    });
    expect(validateEnv(ApiEnv, { ...valid(), NODE_ENV: 'production' }).NODE_ENV).toBe('production');
  });

  it.each(ESP_URLS)('stops on an http:// %s, in one line naming it', (name) => {
    for (const schema of [ApiEnv, WorkerEnv]) {
      const error = problemsOf({ ...production(), [name]: 'http://esp.internal:4200/v1' }, schema);
      expect(error.message).toBe(
        `Invalid configuration: ${name} must be an https:// URL in production`,
      );
    }
  });

  it.each(ESP_URLS)('still lets development and tests point %s at an http:// fake', (name) => {
    for (const NODE_ENV of ['development', 'test']) {
      const env = validateEnv(WorkerEnv, {
        ...valid(),
        NODE_ENV,
        [name]: 'http://127.0.0.1:4200/v1',
      }) as unknown as Record<string, unknown>;
      expect(env[name]).toBe('http://127.0.0.1:4200/v1');
    }
  });

  it('names a malformed ESP URL once in production, not twice', () => {
    const error = problemsOf({ ...production(), KIT_API_URL: 'api.kit.com/v4' }, WorkerEnv);
    expect(error.problems).toEqual(['KIT_API_URL must be a URL starting with https:// or http://']);
  });

  it.each([
    'smtps://u:p@mail.example.com:465',
    'smtps://mail.example.com',
    'smtp://u:p@mail.example.com:587?requireTLS=true',
    'smtp://mail.example.com:587?requireTLS=true&tls.servername=mail.example.com',
  ])('accepts the encrypted SMTP_URL %p in production', (url) => {
    expect(validateEnv(WorkerEnv, { ...production(), SMTP_URL: url }).SMTP_URL).toBe(url);
  });

  it.each([
    'smtp://mail.internal:25',
    'smtp://u:p@mail.example.com:587',
    'smtp://mail.example.com:587?requireTLS=false',
    'smtp://mail.example.com:587?secure=true',
    'smtps://mail.example.com:465?tls.rejectUnauthorized=false',
    'smtp://mail.example.com:587?requireTLS=true&tls.rejectUnauthorized=false',
  ])('stops on the SMTP_URL %p in production, in one line naming it', (url) => {
    const error = problemsOf({ ...production(), SMTP_URL: url }, WorkerEnv);
    expect(error.message).toBe(
      'Invalid configuration: SMTP_URL must use TLS in production: smtps://…, or ' +
        'smtp://…?requireTLS=true (STARTTLS required), with certificate checks on',
    );
    expect(error.message).not.toContain('mail.');
  });

  it('keeps plain smtp:// for development and tests', () => {
    expect(
      validateEnv(WorkerEnv, { ...valid(), NODE_ENV: 'test', SMTP_URL: 'smtp://127.0.0.1:1025' })
        .SMTP_URL,
    ).toBe('smtp://127.0.0.1:1025');
  });
});

describe('validateEnv: data retention', () => {
  it('defaults each table to its retention and reads overrides', () => {
    expect(validateEnv(WorkerEnv, valid())).toMatchObject({
      RETENTION_LOGIN_CODES_DAYS: 7,
      RETENTION_SESSIONS_DAYS: 30,
      RETENTION_OUTBOX_DAYS: 7,
      RETENTION_JOB_RUNS_DAYS: 30,
      RETENTION_CRON_RUNS_DAYS: 90,
      RETENTION_ADMIN_ACTIONS_DAYS: 365,
      RETENTION_BATCH_SIZE: 5_000,
    });
    expect(
      validateEnv(WorkerEnv, {
        ...valid(),
        RETENTION_LOGIN_CODES_DAYS: '1',
        RETENTION_ADMIN_ACTIONS_DAYS: '3650',
        RETENTION_BATCH_SIZE: '100',
      }),
    ).toMatchObject({
      RETENTION_LOGIN_CODES_DAYS: 1,
      RETENTION_ADMIN_ACTIONS_DAYS: 3650,
      RETENTION_BATCH_SIZE: 100,
    });
  });

  it.each([
    ['RETENTION_LOGIN_CODES_DAYS', '0', 'must not be less than 1'],
    ['RETENTION_LOGIN_CODES_DAYS', '366', 'must not be greater than 365'],
    ['RETENTION_SESSIONS_DAYS', 'forever', 'must be an integer number'],
    ['RETENTION_OUTBOX_DAYS', '0', 'must not be less than 1'],
    ['RETENTION_JOB_RUNS_DAYS', '3651', 'must not be greater than 3650'],
    ['RETENTION_CRON_RUNS_DAYS', '1.5', 'must be an integer number'],
    ['RETENTION_ADMIN_ACTIONS_DAYS', '29', 'must not be less than 30'],
    ['RETENTION_BATCH_SIZE', '99', 'must not be less than 100'],
    ['RETENTION_BATCH_SIZE', '50001', 'must not be greater than 50000'],
  ])('names %s when it is %p', (name, value, message) => {
    const error = problemsOf({ ...valid(), [name]: value }, WorkerEnv);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems.every((problem) => problem.startsWith(name))).toBe(true);
    expect(error.problems.some((problem) => problem.includes(message))).toBe(true);
  });
});

describe('validateEnv: worker job lock and shutdown drain settings', () => {
  it("defaults the job lock timings to BullMQ's and leaves the drain time to the worker", () => {
    expect(validateEnv(WorkerEnv, valid())).toMatchObject({
      QUEUE_LOCK_DURATION_MS: 30_000,
      QUEUE_STALLED_INTERVAL_MS: 30_000,
      JOB_DRAIN_TIMEOUT_MS: undefined,
      SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    expect(
      validateEnv(WorkerEnv, {
        ...valid(),
        QUEUE_LOCK_DURATION_MS: '2000',
        QUEUE_STALLED_INTERVAL_MS: '1000',
        SHUTDOWN_TIMEOUT_MS: '10000',
        JOB_DRAIN_TIMEOUT_MS: '9999',
      }),
    ).toMatchObject({
      QUEUE_LOCK_DURATION_MS: 2_000,
      QUEUE_STALLED_INTERVAL_MS: 1_000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      JOB_DRAIN_TIMEOUT_MS: 9_999,
    });
  });

  it.each([
    [{ QUEUE_LOCK_DURATION_MS: '499' }, 'QUEUE_LOCK_DURATION_MS must not be less than 500'],
    [{ QUEUE_STALLED_INTERVAL_MS: 'soon' }, 'QUEUE_STALLED_INTERVAL_MS must be an integer number'],
    [
      { QUEUE_STALLED_INTERVAL_MS: '3600001' },
      'QUEUE_STALLED_INTERVAL_MS must not be greater than',
    ],
    [
      { JOB_DRAIN_TIMEOUT_MS: '25000' },
      'JOB_DRAIN_TIMEOUT_MS must be less than SHUTDOWN_TIMEOUT_MS',
    ],
    [
      { JOB_DRAIN_TIMEOUT_MS: '5000', SHUTDOWN_TIMEOUT_MS: '4000' },
      'JOB_DRAIN_TIMEOUT_MS must be less than SHUTDOWN_TIMEOUT_MS',
    ],
  ])('names the setting in %j', (overrides, message) => {
    const error = problemsOf({ ...valid(), ...overrides }, WorkerEnv);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems.every((problem) => problem.startsWith(Object.keys(overrides)[0]))).toBe(
      true,
    );
    expect(error.problems.some((problem) => problem.includes(message))).toBe(true);
  });
});
