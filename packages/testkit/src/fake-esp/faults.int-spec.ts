import { FakeEspServer } from './fake-esp-server';

const BEEHIIV = { authorization: 'Bearer b-key' };
const KIT = { 'x-kit-api-key': 'k-key' };
const MAILCHIMP = { authorization: `Basic ${Buffer.from('u:m-key-us2').toString('base64')}` };

describe('fake ESP: fault injection', () => {
  let server: FakeEspServer;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: 'b-key',
          lists: [
            { id: 'pub_a', name: 'A', size: 50 },
            { id: 'pub_b', name: 'B', size: 50 },
            { id: 'pub_slow', name: 'Slow', size: 5, faults: { latencyMs: 150 } },
          ],
        },
        { esp: 'kit', apiKey: 'k-key', lists: [{ id: '77', name: 'Kit', size: 50 }] },
        { esp: 'mailchimp', apiKey: 'm-key-us2', lists: [{ id: 'mc', name: 'MC', size: 50 }] },
      ],
    });
  });
  afterAll(() => server.stop());
  afterEach(() => {
    for (const id of ['pub_a', 'pub_b']) server.setFaults('beehiiv', id, undefined);
    server.setFaults('kit', '77', undefined);
    server.setFaults('mailchimp', 'mc', undefined);
  });

  const beehiiv = (pub: string): Promise<Response> =>
    fetch(`${server.baseUrls.beehiiv}/publications/${pub}/subscriptions`, { headers: BEEHIIV });
  const kit = (): Promise<Response> =>
    fetch(`${server.baseUrls.kit}/subscribers`, { headers: KIT });
  const mailchimp = (): Promise<Response> =>
    fetch(`${server.mailchimpBaseUrl('us2')}/lists/mc/members`, { headers: MAILCHIMP });

  async function statuses(request: () => Promise<Response>, n: number): Promise<number[]> {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      const response = await request();
      await response.arrayBuffer();
      seen.push(response.status);
    }
    return seen;
  }

  it('delays every request touching a list by latencyMs (configured in the spec)', async () => {
    const started = Date.now();
    const response = await beehiiv('pub_slow');
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("holds a list's requests until the test releases them, then answers them as usual", async () => {
    const hold = server.holdRequests('beehiiv', 'pub_a');
    let answered = false;
    const pending = beehiiv('pub_a').then((response) => {
      answered = true;
      return response;
    });
    await hold.arrived;
    // Another list is not held.
    expect((await beehiiv('pub_b')).status).toBe(200);
    expect(hold.held).toBe(1);
    expect(answered).toBe(false);
    hold.release();
    expect((await pending).status).toBe(200);
    // Released for good: later requests go straight through.
    expect((await beehiiv('pub_a')).status).toBe(200);
  });

  it('answers every Nth request of a list with a beehiiv 429 carrying Retry-After and RateLimit-*', async () => {
    server.setFaults('beehiiv', 'pub_a', { rateLimitEvery: 3, retryAfterSeconds: 2 });
    expect(await statuses(() => beehiiv('pub_a'), 6)).toEqual([200, 200, 429, 200, 200, 429]);
    server.setFaults('beehiiv', 'pub_a', { rateLimitEvery: 1, retryAfterSeconds: 2 });
    const limited = await beehiiv('pub_a');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    const reset = Number(limited.headers.get('ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3);
    expect(await limited.json()).toMatchObject({
      status: 429,
      errors: [{ message: expect.any(String) }],
    });
  });

  it('answers 429s in Kit and Mailchimp shapes, with Retry-After defaulting to 1', async () => {
    server.setFaults('kit', '77', { rateLimitEvery: 1 });
    const limitedKit = await kit();
    expect(limitedKit.status).toBe(429);
    expect(limitedKit.headers.get('retry-after')).toBe('1');
    expect(await limitedKit.json()).toEqual({ errors: [expect.any(String)] });

    server.setFaults('mailchimp', 'mc', { rateLimitEvery: 1 });
    const limitedMc = await mailchimp();
    expect(limitedMc.status).toBe(429);
    expect(limitedMc.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await limitedMc.json()).toMatchObject({ status: 429, title: expect.any(String) });
  });

  it('omits Retry-After on request: beehiiv then says when only through RateLimit-Reset', async () => {
    server.setFaults('beehiiv', 'pub_a', {
      rateLimitEvery: 1,
      retryAfterSeconds: 30,
      omitRetryAfter: true,
    });
    const limited = await beehiiv('pub_a');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-limit')).toBe('180');
    expect(limited.headers.get('ratelimit-reset')).toMatch(/^\d{10}$/);
    await limited.arrayBuffer();

    server.setFaults('kit', '77', { rateLimitEvery: 1, omitRetryAfter: true });
    const kitLimited = await kit();
    expect(kitLimited.status).toBe(429);
    expect(kitLimited.headers.get('retry-after')).toBeNull();
    await kitLimited.arrayBuffer();
    server.setFaults('mailchimp', 'mc', { rateLimitEvery: 1, omitRetryAfter: true });
    const mcLimited = await mailchimp();
    expect(mcLimited.status).toBe(429);
    expect(mcLimited.headers.get('retry-after')).toBeNull();
    await mcLimited.arrayBuffer();
  });

  it('sets RateLimit-Reset from the clock the server was given: window end, or now + the wait', async () => {
    const now = Date.UTC(2025, 5, 2, 9, 30, 15, 250);
    const pinned = await FakeEspServer.start({
      now: () => now,
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: 'b-key',
          lists: [
            {
              id: 'pub_t',
              name: 'T',
              size: 5,
              faults: { rateLimitEvery: 2, retryAfterSeconds: 30, omitRetryAfter: true },
            },
          ],
        },
      ],
    });
    try {
      const get = () =>
        fetch(`${pinned.baseUrls.beehiiv}/publications/pub_t/subscriptions`, { headers: BEEHIIV });
      const ok = await get();
      await ok.arrayBuffer();
      // The fixed one-minute window the clock is in ends at 09:31:00.
      expect(ok.headers.get('ratelimit-reset')).toBe(String(Date.UTC(2025, 5, 2, 9, 31) / 1000));
      const limited = await get();
      await limited.arrayBuffer();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeNull();
      expect(limited.headers.get('ratelimit-reset')).toBe(String(Math.ceil(now / 1000) + 30));
    } finally {
      await pinned.stop();
    }
  });

  it('answers a burst of 5xx after N requests, then recovers', async () => {
    server.setFaults('beehiiv', 'pub_a', { serverErrorBurst: { afterRequests: 2, count: 3 } });
    expect(await statuses(() => beehiiv('pub_a'), 7)).toEqual([200, 200, 500, 500, 500, 200, 200]);
    server.setFaults('kit', '77', {
      serverErrorBurst: { afterRequests: 0, count: 1, status: 503 },
    });
    const unavailable = await kit();
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toEqual({ errors: [expect.any(String)] });
    expect((await kit()).status).toBe(200);
  });

  it('answers the Nth request with 200 and a truncated JSON body', async () => {
    server.setFaults('mailchimp', 'mc', { malformedBodyOnRequest: 2 });
    expect((await mailchimp()).status).toBe(200);
    const broken = await mailchimp();
    expect(broken.status).toBe(200);
    const text = await broken.text();
    expect(text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    expect(JSON.parse(await (await mailchimp()).text())).toHaveProperty('members');
  });

  it('counts requests per list, and setFaults restarts the count', async () => {
    server.setFaults('beehiiv', 'pub_a', { rateLimitEvery: 2 });
    expect(await statuses(() => beehiiv('pub_a'), 1)).toEqual([200]);
    // Other lists and account-level routes do not touch pub_a.
    expect(await statuses(() => beehiiv('pub_b'), 3)).toEqual([200, 200, 200]);
    const publications = await fetch(`${server.baseUrls.beehiiv}/publications`, {
      headers: BEEHIIV,
    });
    expect(publications.status).toBe(200);
    expect(await statuses(() => beehiiv('pub_a'), 1)).toEqual([429]);
    server.setFaults('beehiiv', 'pub_a', { rateLimitEvery: 2 });
    expect(await statuses(() => beehiiv('pub_a'), 2)).toEqual([200, 429]);
  });

  it('records the status each request was answered with', async () => {
    server.setFaults('kit', '77', { serverErrorBurst: { afterRequests: 1, count: 1 } });
    server.clearRequests();
    await statuses(kit, 3);
    expect(server.requests.map((r) => [r.esp, r.path, r.status])).toEqual([
      ['kit', '/subscribers', 200],
      ['kit', '/subscribers', 500],
      ['kit', '/subscribers', 200],
    ]);
    // Only Mailchimp URLs name a data centre.
    for (const request of server.requests) expect(request).not.toHaveProperty('dc');
  });

  it('keeps no request log when recordRequests is false, and stops while a request is delayed', async () => {
    const quiet = await FakeEspServer.start({
      recordRequests: false,
      accounts: [
        {
          esp: 'kit',
          apiKey: 'q',
          lists: [{ id: '1', name: 'Q', size: 3, faults: { latencyMs: 5000 } }],
        },
      ],
    });
    const pending = fetch(`${quiet.baseUrls.kit}/subscribers`, {
      headers: { 'x-kit-api-key': 'q' },
    });
    const outcome = pending.then(
      (r) => r.status,
      () => 'closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await quiet.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await outcome).toBe('closed');
    expect(quiet.requests).toEqual([]);
  });
});
