import { RedisCluster, redisClusterUnsupported } from './redis-cluster';

describe('RedisCluster (three local masters)', () => {
  let cluster: RedisCluster | undefined;
  let skip: string | null = null;

  beforeAll(async () => {
    skip = await redisClusterUnsupported();
    if (skip) {
      console.warn(`skipped: ${skip}`);
      return;
    }
    cluster = await RedisCluster.start();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('serves every slot, and a killed master comes back with its slots and data', async () => {
    if (!cluster) return;
    const client = cluster.client();
    try {
      await client.set('{t}:a', '1');
      const port = await cluster.portOfKey('{t}:a');
      await cluster.kill(port);
      expect(cluster.nodes.find((node) => node.port === port)?.running).toBe(false);
      await cluster.restart(port);
      expect(await cluster.portOfKey('{t}:a')).toBe(port);
      expect(await client.get('{t}:a')).toBe('1');
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
