import Redis from 'ioredis';
import { RedisServer } from './redis-server';

describe("RedisServer (a test's own redis-server)", () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  const client = (server: RedisServer) => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };

  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    for (const server of servers) await server.destroy();
  });

  it('keeps what it acknowledged across a restart when append-only', async () => {
    const server = await RedisServer.start({ appendOnly: true });
    servers.push(server);
    await client(server).set('job', 'queued');
    await server.restart();
    expect(await client(server).get('job')).toBe('queued');
  });

  it('is unreachable while stopped, and reachable again on the same port', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    await server.stop('SIGKILL');
    expect(server.running).toBe(false);
    const probe = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();
    probe.disconnect();
    await server.restart();
    expect(await client(server).ping()).toBe('PONG');
  });

  it('refuses writes once full when given a memory limit', async () => {
    const server = await RedisServer.start({ maxMemory: '1mb' });
    servers.push(server);
    await expect(client(server).set('job', 'x'.repeat(2_000_000))).rejects.toThrow(/OOM/);
  });
});
