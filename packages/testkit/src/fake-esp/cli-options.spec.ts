import { FAKE_ESP_DEMO_KEYS, parseFakeEspCliArgs } from './cli-options';

describe('fake ESP CLI options', () => {
  it('serves the demo set on port 4200 when no list is named', () => {
    const options = parseFakeEspCliArgs([]);
    expect(options).toMatchObject({ port: 4200, host: '127.0.0.1', help: false });
    expect(
      options.accounts.map((a) => [a.esp, a.apiKey, a.lists.map((l) => [l.id, l.size])]),
    ).toEqual([
      ['beehiiv', 'demo-beehiiv-key', [['pub_demo', 5000]]],
      ['kit', 'demo-kit-key', [['424242', 2000]]],
      ['mailchimp', 'demo-mailchimp-key-us1', [['list_demo', 3000]]],
    ]);
  });

  it('groups beehiiv and Mailchimp lists into one account each, and gives each Kit list its own', () => {
    const options = parseFakeEspCliArgs([
      '--port=0',
      '--beehiiv',
      'pub_a:1k:Alpha Weekly',
      '--beehiiv',
      'pub_b:1_500',
      '--kit',
      '1:2m',
      '--kit',
      '2:10',
      '--mailchimp',
      'l1:0',
      '--beehiiv-pagination',
      'nested',
      '--latency-ms',
      '25',
      '--seed',
      '9',
    ]);
    expect(options.port).toBe(0);
    const [beehiiv, kit1, kit2, mailchimp] = options.accounts;
    expect(beehiiv).toMatchObject({
      apiKey: FAKE_ESP_DEMO_KEYS.beehiiv,
      beehiivPagination: 'nested',
    });
    expect(beehiiv.lists).toEqual([
      { id: 'pub_a', name: 'Alpha Weekly', size: 1000, seed: 9, faults: { latencyMs: 25 } },
      expect.objectContaining({ id: 'pub_b', size: 1500 }),
    ]);
    expect([kit1.apiKey, kit2.apiKey]).toEqual(['demo-kit-key', 'demo-kit-key-2']);
    expect(kit1.lists[0].size).toBe(2_000_000);
    expect(mailchimp.lists[0]).toMatchObject({ id: 'l1', size: 0 });
  });

  it('passes statuses outside our model and Reset-only 429s to every list', () => {
    const options = parseFakeEspCliArgs([
      '--beehiiv',
      'pub_a:100',
      '--other-status-every=7',
      '--rate-limit-every',
      '3',
      '--retry-after',
      '20',
      '--omit-retry-after',
    ]);
    expect(options.accounts[0].lists).toEqual([
      {
        id: 'pub_a',
        name: 'Demo beehiiv list pub_a',
        size: 100,
        otherStatusEvery: 7,
        faults: { rateLimitEvery: 3, retryAfterSeconds: 20, omitRetryAfter: true },
      },
    ]);
    expect(() => parseFakeEspCliArgs(['--other-status-every', '0'])).toThrow(
      /--other-status-every must be an integer from 1/,
    );
    expect(() => parseFakeEspCliArgs(['--omit-retry-after=yes'])).toThrow(/takes no value/);
  });

  it('takes a key and certificate to serve HTTPS', () => {
    expect(
      parseFakeEspCliArgs(['--tls-key', '/tls/fake-esp.key', '--tls-cert=/tls/fake-esp.crt']),
    ).toMatchObject({ tlsKeyPath: '/tls/fake-esp.key', tlsCertPath: '/tls/fake-esp.crt' });
  });

  it('names the bad flag', () => {
    expect(() => parseFakeEspCliArgs(['--kit', 'nosize'])).toThrow(/--kit expects <id>:<size>/);
    expect(() => parseFakeEspCliArgs(['--port', 'x'])).toThrow(/--port must be an integer/);
    expect(() => parseFakeEspCliArgs(['--port'])).toThrow(/--port needs a value/);
    expect(() => parseFakeEspCliArgs(['--frobnicate'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseFakeEspCliArgs(['--tls-cert', 'c.pem'])).toThrow(
      /--tls-key and --tls-cert go together/,
    );
  });
});
