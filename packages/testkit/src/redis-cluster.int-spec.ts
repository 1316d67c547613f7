import { clusterSuiteName, RedisCluster, redisClusterUnsupported } from './redis-cluster';

const UNSUPPORTED = redisClusterUnsupported();

(UNSUPPORTED ? describe.skip : describe)(
  clusterSuiteName('RedisCluster (three local masters)', UNSUPPORTED),
  () => {
    let cluster: RedisCluster;

    beforeAll(async () => {
      cluster = await RedisCluster.start();
    }, 60_000);

    afterAll(async () => {
      await cluster?.destroy();
    });

    it('serves every slot, and a killed master comes back with its slots and data', async () => {
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
  },
);
