/** The schemes of REDIS_URL that name a Redis Cluster by some of its nodes (TLS: `rediss+`). */
export const REDIS_CLUSTER_PROTOCOLS = ['redis+cluster:', 'rediss+cluster:'] as const;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** What REDIS_URL names: one Redis server, or a Redis Cluster reached through seed nodes. */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | {
      mode: 'cluster';
      /** The seed nodes: ioredis discovers the rest of the cluster from any of them. */
      nodes: RedisNodeAddress[];
      username?: string;
      password?: string;
      tls: boolean;
    };

export function isRedisClusterUrl(url: string): boolean {
  return REDIS_CLUSTER_PROTOCOLS.some((protocol) => url.trim().startsWith(`${protocol}//`));
}

/**
 * REDIS_URL as a target: `redis://` / `rediss://` for one server (user, password, db, TLS), or
 * `redis+cluster://[user:password@]host:port,host:port[,…]` (`rediss+cluster://` for TLS) for a
 * cluster. A cluster has only database 0, so a path is refused. Throws with the reason.
 */
export function parseRedisTarget(url: string): RedisTarget {
  const value = url.trim();
  if (!isRedisClusterUrl(value)) return { mode: 'single', url: value };
  const protocol = value.slice(0, value.indexOf('//'));
  let rest = value.slice(protocol.length + 2);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#]/.test(rest)) {
    throw new Error('a cluster URL takes no database, path or query: a cluster has only db 0');
  }
  const at = rest.lastIndexOf('@');
  const credentials = at >= 0 ? rest.slice(0, at) : '';
  const hosts = at >= 0 ? rest.slice(at + 1) : rest;
  const [user, ...password] = credentials.split(':');
  const nodes = hosts.split(',').map((entry) => parseNode(entry.trim()));
  if (nodes.length === 0) throw new Error('a cluster URL names at least one host:port');
  return {
    mode: 'cluster',
    nodes,
    username: user ? decodeURIComponent(user) : undefined,
    password: password.length > 0 ? decodeURIComponent(password.join(':')) : undefined,
    tls: protocol === 'rediss+cluster:',
  };
}

function parseNode(entry: string): RedisNodeAddress {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65_535) {
    throw new Error(`"${entry}" is not a host:port`);
  }
  const host = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
  return { host, port };
}

/**
 * Whether every key under `prefix` hashes to one Redis Cluster slot: Redis hashes only what lies
 * between the key's first `{` and the first `}` after it, when that is not empty. With the tag in
 * the prefix, every key we write (`<prefix>:…`, BullMQ's `<prefix>:<queue>:…`) carries it first,
 * so a later brace pair in the key (the ESP budgets' `{digest}`) changes nothing.
 */
export function isHashTaggedPrefix(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}
