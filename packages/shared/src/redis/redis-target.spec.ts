import { isHashTaggedPrefix, isRedisClusterUrl, parseRedisTarget } from './redis-target';

describe('parseRedisTarget', () => {
  it('leaves a single-server URL as it is', () => {
    expect(parseRedisTarget('redis://:pw@cache:6380/2')).toEqual({
      mode: 'single',
      url: 'redis://:pw@cache:6380/2',
    });
    expect(isRedisClusterUrl('rediss://cache:6380')).toBe(false);
  });

  it('reads the seed nodes, the credentials and TLS of a cluster URL', () => {
    expect(parseRedisTarget('redis+cluster://10.0.0.1:7000,redis-b:7001,[::1]:7002/')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisTarget('rediss+cluster://app:p%40ss:w@a:6379')).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'a', port: 6379 }],
      username: 'app',
      password: 'p@ss:w',
      tls: true,
    });
  });

  it.each([
    ['redis+cluster://a:7000,b', '"b" is not a host:port'],
    ['redis+cluster://a:7000,', '"" is not a host:port'],
    ['redis+cluster://a:70000', '"a:70000" is not a host:port'],
    ['redis+cluster://a:7000/1', 'takes no database'],
    ['redis+cluster://a:7000?tls=1', 'takes no database'],
  ])('refuses %s', (url, reason) => {
    expect(() => parseRedisTarget(url)).toThrow(reason);
  });
});

describe('isHashTaggedPrefix', () => {
  it.each([
    ['{sn}', true],
    ['{sn}-eu', true],
    ['eu-{sn}', true],
    ['sn', false],
    ['{}sn', false],
    ['{sn', false],
    ['sn}', false],
  ])('%s → %s', (prefix, tagged) => {
    expect(isHashTaggedPrefix(prefix)).toBe(tagged);
  });
});
