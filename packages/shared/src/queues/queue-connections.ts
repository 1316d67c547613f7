import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Cluster, RedisOptions } from 'ioredis';
import { bullmqConnection, closeRedisClient } from '../redis/redis-client';

/**
 * The BullMQ root connection of the process's queues (queueRootModule), from the one factory
 * (bullmqConnection). With one Redis server that is options, and BullMQ opens and closes each
 * queue's connection itself. On a cluster it is one `Cluster` that every queue shares and BullMQ
 * never closes: this closes it at shutdown, once nothing produces any more (the workers drained
 * and the HTTP server closed in the hooks before this one).
 */
@Injectable()
export class QueueConnections implements OnApplicationShutdown {
  private readonly clusters: Cluster[] = [];

  connection(url: string, role: 'producer' | 'worker'): RedisOptions | Cluster {
    const connection = bullmqConnection(url, role);
    if (connection instanceof Cluster) this.clusters.push(connection);
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clusters.splice(0).map((cluster) => closeRedisClient(cluster)));
  }
}
