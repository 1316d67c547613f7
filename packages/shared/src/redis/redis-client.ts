import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import {
  producerRedisOptions,
  reconnectBackoff,
  redisOptionsFromUrl,
  workerRedisOptions,
} from './redis-options';
import { parseRedisTarget, RedisTarget } from './redis-target';

/**
 * How a connection behaves (see redis-options.ts): `worker` waits through outages (BullMQ
 * workers, the worker's queues), `producer` fails at once while disconnected (request paths),
 * `probe` has no behaviour of its own (a health check sets its own).
 */
export type RedisRole = 'worker' | 'producer' | 'probe';

/** A connection to what REDIS_URL names: one server or a cluster. */
export type RedisClient = Redis | Cluster;

/** What a caller may add to its role's options. */
export type RedisClientOverrides = Pick<
  RedisOptions,
  | 'keyPrefix'
  | 'commandTimeout'
  | 'connectionName'
  | 'lazyConnect'
  | 'enableOfflineQueue'
  | 'maxRetriesPerRequest'
  | 'connectTimeout'
  | 'retryStrategy'
>;

/**
 * THE factory of every Redis connection the services open (BullMQ queues and workers, the auth
 * throttler, the ESP request budgets, the health checks): one server for a `redis://` REDIS_URL,
 * exactly as before clusters were supported, or an ioredis `Cluster` for `redis+cluster://`.
 */
export function createRedisClient(
  url: string,
  role: RedisRole,
  overrides: RedisClientOverrides = {},
): RedisClient {
  const target = parseRedisTarget(url);
  if (target.mode === 'single') return new Redis({ ...singleNodeOptions(url, role), ...overrides });
  return new Cluster(target.nodes, clusterOptions(target, role, overrides));
}

/**
 * BullMQ's `connection` for `role`. One server: options, so BullMQ opens (and closes) each
 * queue's and worker's connection itself, as it always has. A cluster: a `Cluster` of ours (BullMQ
 * cannot build one from options), which BullMQ shares and never closes: close it with
 * closeRedisClient once the queues or workers using it are closed.
 */
export function bullmqConnection(url: string, role: 'worker' | 'producer'): RedisOptions | Cluster {
  const target = parseRedisTarget(url);
  if (target.mode === 'single') return singleNodeOptions(url, role);
  return new Cluster(target.nodes, clusterOptions(target, role, {}));
}

/** QUIT when connected, otherwise just drop the connection (QUIT would wait for a reconnect). */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}

function singleNodeOptions(url: string, role: RedisRole): RedisOptions {
  if (role === 'worker') return workerRedisOptions(url);
  if (role === 'producer') return producerRedisOptions(url);
  return redisOptionsFromUrl(url);
}

/**
 * The cluster counterpart of each role. The offline queue, the retry strategy and the key prefix
 * belong to the cluster client; the rest to each node's connection. Nodes do not reconnect on
 * their own (ioredis's default): a node that went away is found again through the slot map,
 * refreshed from the others, and `clusterRetryStrategy` reconnects once every node was lost.
 */
function clusterOptions(
  target: Extract<RedisTarget, { mode: 'cluster' }>,
  role: RedisRole,
  overrides: RedisClientOverrides,
): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, keyPrefix, lazyConnect, ...nodeOverrides } = overrides;
  const roleOptions: { offline: boolean; maxRetriesPerRequest: number | null | undefined } =
    role === 'worker'
      ? { offline: true, maxRetriesPerRequest: null }
      : role === 'producer'
        ? { offline: false, maxRetriesPerRequest: 1 }
        : { offline: true, maxRetriesPerRequest: undefined };
  return {
    enableReadyCheck: true,
    enableOfflineQueue: enableOfflineQueue ?? roleOptions.offline,
    clusterRetryStrategy: retryStrategy ?? reconnectBackoff,
    keyPrefix,
    lazyConnect,
    redisOptions: {
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
      ...(roleOptions.maxRetriesPerRequest !== undefined
        ? { maxRetriesPerRequest: roleOptions.maxRetriesPerRequest }
        : {}),
      ...nodeOverrides,
    },
  };
}
