import { IncomingHttpHeaders, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  EspError,
  InvalidCredentialsError,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  TransientError,
} from './esp-errors';
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  EspHttpClient,
  EspHttpOptions,
  buildUrl,
  rateLimitWait,
  usableApiKey,
} from './esp-http.client';

const API_KEY = 'sk_live_0123456789abcdef';
const AUTH = `Bearer ${API_KEY}`;

type Reply = (res: ServerResponse, headers: IncomingHttpHeaders) => void;

/** A local HTTP server answering each request with the next reply (the last one repeats). */
interface Stub {
  url: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  connections: number;
  close(): Promise<void>;
}

async function stub(...replies: Reply[]): Promise<Stub> {
  const state: Stub = { url: '', requests: [], connections: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    state.requests.push({ url: req.url ?? '', headers: req.headers });
    const reply = replies[Math.min(state.requests.length, replies.length) - 1];
    reply(res, req.headers);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const raw =
  (status: number, body: string): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
const slow =
  (ms: number): Reply =>
  (res) => {
    const timer = setTimeout(() => json(200, { late: true })(res, {}), ms);
    res.on('close', () => clearTimeout(timer));
  };

function client(overrides: Partial<EspHttpOptions> = {}) {
  const slept: number[] = [];
  const logged: string[] = [];
  const http = new EspHttpClient('beehiiv', {
    timeoutMs: 2_000,
    maxRetries: 3,
    maxInlineWaitMs: 5_000,
    backoffBaseMs: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
    logger: { warn: (line) => logged.push(line) },
    ...overrides,
  });
  return { http, slept, logged };
}

const get = (http: EspHttpClient, url: string, path = '/publications/pub_1/subscriptions') =>
  http.getJson(url, {
    path,
    query: { limit: 100 },
    headers: { authorization: AUTH },
    secrets: [API_KEY, AUTH],
  });

async function failure(promise: Promise<unknown>): Promise<EspError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EspError);
    return error as EspError;
  }
  throw new Error('expected the request to fail');
}

/** Every way an error can be printed: none may show the key. */
function expectNoSecret(error: unknown, logged: string[] = []) {
  const renderings = [
    String(error),
    (error as Error).message,
    (error as Error).stack ?? '',
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    ...logged,
  ];
  for (const text of renderings) {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(AUTH);
  }
}

describe('EspHttpClient', () => {
  let server: Stub | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('returns the parsed body of a 2xx answer and sends the given headers and query', async () => {
    server = await stub(json(200, { data: [1, 2] }));
    const { http } = client();
    await expect(get(http, server.url)).resolves.toEqual({ data: [1, 2] });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].url).toBe('/v2/publications/pub_1/subscriptions?limit=100');
    expect(server.requests[0].headers.authorization).toBe(AUTH);
    expect(server.requests[0].headers.accept).toBe('application/json');
  });

  it('reuses keep-alive connections instead of opening one per request', async () => {
    server = await stub(json(200, {}));
    const { http } = client();
    for (let i = 0; i < 10; i++) await get(http, server.url);
    expect(server.requests).toHaveLength(10);
    // undici may open a second socket while the first is being returned to the pool.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  describe('retries', () => {
    it('retries 5xx and returns the first success', async () => {
      server = await stub(json(500, {}), json(502, {}), json(200, { ok: true }));
      const { http, slept } = client();
      await expect(get(http, server.url)).resolves.toEqual({ ok: true });
      expect(server.requests).toHaveLength(3);
      expect(slept).toHaveLength(2);
    });

    it('stops at maxRetries and throws a TransientError carrying the last status', async () => {
      server = await stub(json(503, { errors: [{ message: 'down for maintenance' }] }));
      const { http, slept } = client({ maxRetries: 3 });
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ code: 'transient', espType: 'beehiiv', status: 503 });
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(
        'beehiiv: GET /publications/pub_1/subscriptions: HTTP 503 (down for maintenance) after 4 attempts',
      );
      expect(server.requests).toHaveLength(4);
      expect(slept).toHaveLength(3);
    });

    it('does not retry at all when maxRetries is 0', async () => {
      server = await stub(json(500, {}));
      const { http } = client({ maxRetries: 0 });
      expect(await failure(get(http, server.url))).toBeInstanceOf(TransientError);
      expect(server.requests).toHaveLength(1);
    });

    it('doubles the backoff each retry, jittered between half and all of the step, capped', async () => {
      server = await stub(json(500, {}));
      const low = client({ maxRetries: 4, random: () => 0 });
      await failure(get(low.http, server.url));
      expect(low.slept).toEqual([5, 10, 20, 40]);

      const high = client({ maxRetries: 4, random: () => 0.999_999 });
      await failure(get(high.http, server.url));
      expect(high.slept).toEqual([10, 20, 40, 80]);

      const capped = client({ maxRetries: 4, random: () => 0.999_999, backoffMaxMs: 25 });
      await failure(get(capped.http, server.url));
      expect(capped.slept).toEqual([10, 20, 25, 25]);
    });

    it('treats a timeout as transient: retried, then a TransientError', async () => {
      // Long enough for a request to reach the stub on a loaded machine, far below its 5 s stall.
      server = await stub(slow(5_000));
      const { http } = client({ timeoutMs: 400, maxRetries: 1 });
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toContain('timed out after 400 ms after 2 attempts');
      expect(error.status).toBeUndefined();
      expect(server.requests).toHaveLength(2);
    });

    it('recovers when only the first attempt times out', async () => {
      server = await stub(slow(10_000), json(200, { ok: true }));
      const { http } = client({ timeoutMs: 500 });
      await expect(get(http, server.url)).resolves.toEqual({ ok: true });
    });

    it('treats a refused connection as transient and names only the error code', async () => {
      server = await stub(json(200, {}));
      const url = server.url;
      await server.close();
      server = undefined;
      const { http, slept, logged } = client({ maxRetries: 2 });
      const error = await failure(get(http, url));
      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toBe(
        'beehiiv: GET /publications/pub_1/subscriptions: network error (ECONNREFUSED) after 3 attempts',
      );
      expect(slept).toHaveLength(2);
      expect(logged).toHaveLength(2);
      expectNoSecret(error, logged);
    });

    it('logs each retry with the reason, the attempt and the wait', async () => {
      server = await stub(json(500, {}), json(200, {}));
      const { http, logged } = client({ maxRetries: 3 });
      await get(http, server.url);
      expect(logged).toEqual([
        'beehiiv GET /publications/pub_1/subscriptions: HTTP 500; retry 1/3 in 8 ms',
      ]);
    });
  });

  describe('429 Too Many Requests', () => {
    it('sleeps a short Retry-After in-process and retries', async () => {
      server = await stub(json(429, {}, { 'retry-after': '2' }), json(200, { ok: true }));
      const { http, slept } = client({ maxInlineWaitMs: 5_000 });
      await expect(get(http, server.url)).resolves.toEqual({ ok: true });
      expect(slept).toEqual([2_000]);
    });

    it('throws RateLimitedError with retryAfterMs when the wait is longer than the inline limit', async () => {
      server = await stub(json(429, {}, { 'retry-after': '120' }));
      const { http, slept } = client({ maxInlineWaitMs: 5_000 });
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 120_000 });
      expect(server.requests).toHaveLength(1);
      expect(slept).toEqual([]);
    });

    it('reads an HTTP-date Retry-After', async () => {
      const now = Date.parse('2025-01-01T00:00:00Z');
      server = await stub(
        json(429, {}, { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }),
        json(200, {}),
      );
      const { http, slept } = client({ now: () => now });
      await get(http, server.url);
      expect(slept).toEqual([3_000]);
    });

    it("honours beehiiv's RateLimit-Reset (epoch seconds) when there is no Retry-After", async () => {
      const now = 1_750_000_000_000;
      server = await stub(
        json(
          429,
          {},
          {
            'ratelimit-limit': '180',
            'ratelimit-remaining': '0',
            'ratelimit-reset': `${now / 1000 + 4}`,
          },
        ),
        json(200, {}),
      );
      const { http, slept } = client({ now: () => now });
      await get(http, server.url);
      expect(slept).toEqual([4_000]);
    });

    it('turns a distant RateLimit-Reset into a RateLimitedError', async () => {
      const now = 1_750_000_000_000;
      server = await stub(json(429, {}, { 'ratelimit-reset': `${now / 1000 + 45}` }));
      const { http } = client({ now: () => now });
      const error = await failure(get(http, server.url));
      expect(error).toMatchObject({ retryAfterMs: 45_000 });
    });

    it('backs off when a 429 gives no hint, then reports the default wait', async () => {
      server = await stub(json(429, { errors: ['Too many requests'] }));
      const { http, slept } = client({ maxRetries: 2 });
      const error = await failure(get(http, server.url));
      expect(slept).toEqual([8, 15]);
      expect(server.requests).toHaveLength(3);
      expect(error).toMatchObject({ retryAfterMs: DEFAULT_RATE_LIMIT_WAIT_MS });
      expect(error.message).toContain('HTTP 429 (Too many requests) after 3 attempts');
    });

    it('stops retrying short 429s at the retry bound and reports the hinted wait', async () => {
      server = await stub(json(429, {}, { 'retry-after': '1' }));
      const { http, slept } = client({ maxRetries: 2 });
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ retryAfterMs: 1_000 });
      expect(slept).toEqual([1_000, 1_000]);
      expect(server.requests).toHaveLength(3);
    });
  });

  describe('error mapping', () => {
    it.each([
      [401, InvalidCredentialsError, 'invalid_credentials'],
      [403, InvalidCredentialsError, 'invalid_credentials'],
      [404, NotFoundError, 'not_found'],
      [400, ProtocolError, 'protocol'],
      [422, ProtocolError, 'protocol'],
    ])('maps HTTP %i to %p, without retrying', async (status, type, code) => {
      server = await stub(json(status, {}));
      const { http, slept } = client();
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ code, status, retryable: false });
      expect(server.requests).toHaveLength(1);
      expect(slept).toEqual([]);
    });

    it("quotes the vendor's own explanation from each vendor's error shape", async () => {
      server = await stub(
        json(401, {
          status: 401,
          statusText: 'Unauthorized',
          errors: [{ message: 'Bad token', code: 'x' }],
        }),
        json(401, { errors: ['The access token is invalid'] }),
        json(404, {
          title: 'Resource Not Found',
          detail: 'The requested resource could not be found.',
        }),
      );
      const { http } = client();
      expect((await failure(get(http, server.url))).message).toContain('HTTP 401 (Bad token)');
      expect((await failure(get(http, server.url))).message).toContain(
        'HTTP 401 (The access token is invalid)',
      );
      expect((await failure(get(http, server.url))).message).toContain(
        'HTTP 404 (The requested resource could not be found.)',
      );
    });

    it('throws a ProtocolError for a 2xx body that is not JSON', async () => {
      server = await stub(raw(200, '{"data": [tru'));
      const { http } = client();
      const error = await failure(get(http, server.url));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toBe(
        'beehiiv: GET /publications/pub_1/subscriptions: the response is not valid JSON',
      );
      expect(server.requests).toHaveLength(1);
    });

    it('never follows a redirect with the credentials', async () => {
      const target = await stub(json(200, { stolen: true }));
      server = await stub((res) => {
        res.writeHead(302, { location: `${target.url}/elsewhere` });
        res.end();
      });
      try {
        const { http } = client();
        const error = await failure(get(http, server.url));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.status).toBe(302);
        expect(target.requests).toHaveLength(0);
      } finally {
        await target.close();
      }
    });
  });

  describe('secrets', () => {
    it('scrubs the key from errors even when the ESP echoes it back', async () => {
      server = await stub((res, headers) =>
        json(401, { errors: [{ message: `invalid key: ${String(headers.authorization)}` }] })(
          res,
          headers,
        ),
      );
      const { http } = client();
      const error = await failure(get(http, server.url));
      expect(error.message).toContain('invalid key: [redacted]');
      expectNoSecret(error);
    });

    it('scrubs the key from retry log lines and transient errors', async () => {
      server = await stub((res) => json(500, { message: `boom ${API_KEY}` })(res, {}));
      const { http, logged } = client({ maxRetries: 2 });
      const error = await failure(get(http, server.url));
      expect(logged).toHaveLength(2);
      expectNoSecret(error, logged);
    });

    it('keeps no reference to the request: no cause, no headers on the error', async () => {
      server = await stub(json(403, {}));
      const { http } = client();
      const error = await failure(get(http, server.url));
      expect(error.cause).toBeUndefined();
      expect(Object.keys(error).sort()).toEqual(['code', 'espType', 'name', 'retryable', 'status']);
    });

    it('refuses a key that is not a valid header value without echoing it', () => {
      const broken = `${API_KEY}\r\nx-injected: 1`;
      let thrown: unknown;
      try {
        usableApiKey('kit', broken);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidCredentialsError);
      expectNoSecret(thrown);
      expect(() => usableApiKey('kit', '   ')).toThrow('kit: the API key is empty');
      expect(usableApiKey('kit', ` ${API_KEY}\n`)).toBe(API_KEY);
    });
  });
});

describe('buildUrl', () => {
  it('joins base, path and query, repeating array parameters and leaving out undefined ones', () => {
    expect(
      buildUrl('http://h/v2/', '/x', { limit: 100, 'expand[]': ['a', 'b'], cursor: undefined }),
    ).toBe('http://h/v2/x?limit=100&expand%5B%5D=a&expand%5B%5D=b');
    expect(buildUrl('http://h/v2', '/x')).toBe('http://h/v2/x');
  });
});

describe('rateLimitWait', () => {
  const now = 1_750_000_000_000;
  const headers = (init: Record<string, string>) => new Headers(init);

  it('prefers Retry-After seconds over RateLimit-Reset', () => {
    expect(rateLimitWait(headers({ 'retry-after': '7', 'ratelimit-reset': '30' }), now)).toBe(
      7_000,
    );
  });

  it('reads small RateLimit-Reset values as delta seconds and large ones as epoch seconds', () => {
    expect(rateLimitWait(headers({ 'ratelimit-reset': '30' }), now)).toBe(30_000);
    expect(rateLimitWait(headers({ 'ratelimit-reset': `${now / 1000 + 12}` }), now)).toBe(12_000);
  });

  it('gives no hint for absent, past or unreadable values', () => {
    expect(rateLimitWait(headers({}), now)).toBeNull();
    expect(rateLimitWait(headers({ 'ratelimit-reset': `${now / 1000 - 5}` }), now)).toBeNull();
    expect(rateLimitWait(headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(rateLimitWait(headers({ 'retry-after': '0' }), now)).toBeNull();
  });
});
