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
 * The cluster counterpart of each role. The offline queue, the retry strategy, the ready check and
 * the key prefix belong to the cluster client; the rest to each node's connection. Nodes do not reconnect on
 * their own (ioredis's default): a node that went away is found again through the slot map,
 * refreshed from the others, and `clusterRetryStrategy` reconnects once every node was lost.
 */
function clusterOptions(
  target: Extract<RedisTarget, { mode: 'cluster' }>,
  role: RedisRole,
  overrides: RedisClientOverrides,
): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, keyPrefix, lazyConnect, ...nodeOverrides } = overrides;
  const roleOptions: {
    offline: boolean;
    maxRetriesPerRequest: number | null | undefined;
    readyCheck: boolean;
  } =
    role === 'worker'
      ? { offline: true, maxRetriesPerRequest: null, readyCheck: false }
      : role === 'producer'
        ? { offline: false, maxRetriesPerRequest: 1, readyCheck: true }
        : { offline: true, maxRetriesPerRequest: undefined, readyCheck: true };
  return {
    // No ready check on workers' clusters. When ioredis's check (CLUSTER INFO) finds
    // `cluster_state:fail` — a reconnect while a master is down — it reconnects from inside
    // `connect()` and drops that call's promise: it never settles, although the client becomes
    // ready later (ioredis #709). BullMQ's blocking connection awaits exactly that `connect()`
    // when its BZPOPMIN watchdog or error path reconnects during an outage, so the worker's main
    // loop, and `Worker.close()` behind it, waited forever: the worker took no job again. Without
    // the check `connect()` settles once a node served the slot map (or every node failed), and a
    // command sent while the cluster is down gets CLUSTERDOWN, which ioredis retries and BullMQ
    // treats as a passing error. Producers keep the check: nothing awaits their `connect()`, and
    // while it fails their commands are refused at once, as a request path wants.
    enableReadyCheck: roleOptions.readyCheck,
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
