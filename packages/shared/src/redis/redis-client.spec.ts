import Redis, { Cluster } from 'ioredis';
import { bullmqConnection, closeRedisClient, createRedisClient } from './redis-client';
import { producerRedisOptions, workerRedisOptions } from './redis-options';

const CLUSTER_URL = 'redis+cluster://app:secret@127.0.0.1:7000,127.0.0.1:7001';

describe('the Redis factory', () => {
  it('gives BullMQ the same options as before for one server', () => {
    const url = 'redis://127.0.0.1:6379';
    expect(bullmqConnection(url, 'worker')).toEqual(workerRedisOptions(url));
    expect(bullmqConnection(url, 'producer')).toEqual(producerRedisOptions(url));
  });

  it('builds one server with the role and the caller options', async () => {
    const client = createRedisClient('redis://127.0.0.1:6379/3', 'producer', {
      lazyConnect: true,
      keyPrefix: 'sn:throttler:',
    });
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({
      db: 3,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      keyPrefix: 'sn:throttler:',
    });
    await closeRedisClient(client);
  });

  it('builds a cluster: seed nodes, credentials on each node, the role on the cluster', async () => {
    const producer = createRedisClient(CLUSTER_URL, 'producer', {
      lazyConnect: true,
      keyPrefix: '{sn}:throttler:',
      commandTimeout: 500,
    }) as Cluster;
    expect(producer).toBeInstanceOf(Cluster);
    expect(producer.options).toMatchObject({
      enableReadyCheck: true,
      enableOfflineQueue: false,
      keyPrefix: '{sn}:throttler:',
      redisOptions: {
        username: 'app',
        password: 'secret',
        maxRetriesPerRequest: 1,
        commandTimeout: 500,
      },
    });
    await closeRedisClient(producer);

    const worker = bullmqConnection(CLUSTER_URL, 'worker') as Cluster;
    expect(worker).toBeInstanceOf(Cluster);
    // What BullMQ demands of a worker's connection, and checks on a Cluster's redisOptions.
    expect(worker.options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(worker.options.enableOfflineQueue).toBe(true);
    // A failed ready check leaves ioredis's `connect()` pending for good, and BullMQ's blocking
    // connection awaits it (redis-client.ts): workers' clusters have none.
    expect(worker.options.enableReadyCheck).toBe(false);
    // BullMQ's blocking connection is a duplicate: it keeps the worker's options.
    const blocking = worker.duplicate();
    expect(blocking.options).toMatchObject({ enableReadyCheck: false, enableOfflineQueue: true });
    expect(blocking.options.redisOptions?.maxRetriesPerRequest).toBeNull();
    blocking.disconnect();
    worker.disconnect();
  });
});
