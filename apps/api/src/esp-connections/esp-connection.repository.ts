import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EspConnection, EspType, Subscriber, SyncRunLifecycle } from '@subscribernest/shared';
import { Repository } from 'typeorm';

export interface NewEspConnection {
  espType: EspType;
  encryptedApiKey: string;
  publicationId: string;
  publicationName: string | null;
}

/** Subscribers deleted per statement when a connection goes: small locks, short transactions. */
export const SUBSCRIBER_DELETE_BATCH = 5_000;

/**
 * Queries on `esp_connections` (and the removal of a connection's subscribers). Every method on a
 * connection takes the caller's `userId`: another user's connection simply does not exist here.
 */
@Injectable()
export class EspConnectionRepository {
  constructor(
    @InjectRepository(EspConnection) private readonly connections: Repository<EspConnection>,
    private readonly lifecycle: SyncRunLifecycle,
  ) {}

  findAllForUser(userId: string): Promise<EspConnection[]> {
    return this.connections.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findOneForUser(userId: string, id: string): Promise<EspConnection | null> {
    return this.connections.findOneBy({ id, userId });
  }

  /** The new connection, or null when this user already connected that ESP publication/list. */
  async createForUser(userId: string, values: NewEspConnection): Promise<EspConnection | null> {
    const result = await this.connections
      .createQueryBuilder()
      .insert()
      .into(EspConnection)
      .values({
        userId,
        ...values,
        status: 'active',
        syncStatus: 'idle',
        lastValidatedAt: () => 'now()',
      })
      // The only unique key a new row can hit: esp_connections_user_publication_key.
      .orIgnore()
      .returning(['id'])
      .execute();
    const [row] = result.raw as { id: string }[];
    return row ? this.findOneForUser(userId, row.id) : null;
  }

  /**
   * Stores a freshly validated key and makes the connection active again (the status through
   * SyncRunLifecycle, which owns it).
   */
  async replaceKeyForUser(
    userId: string,
    id: string,
    values: Pick<NewEspConnection, 'encryptedApiKey' | 'publicationName'>,
  ): Promise<EspConnection | null> {
    const updated = await this.connections.update(
      { id, userId },
      { ...values, lastValidatedAt: () => 'now()' },
    );
    if (!updated.affected) return null;
    await this.lifecycle.markConnectionActive(userId, id);
    return this.findOneForUser(userId, id);
  }

  /** The ESP rejected the stored key: no sync until a new key is saved. */
  markInvalidForUser(userId: string, id: string): Promise<void> {
    return this.lifecycle.markConnectionInvalid(userId, id);
  }

  /**
   * Deletes a connection: first marks it `disconnected` and fails its unfinished sync run (no new
   * sync starts on it, a running pass stops at its next page; SyncRunLifecycle), then deletes
   * its subscribers in batches of `batchSize`, each its own short statement, and finally the
   * connection itself (its sync runs go with it by cascade). Returns the number of subscribers
   * deleted, or null when the user has no such connection.
   */
  async deleteForUser(
    userId: string,
    id: string,
    batchSize = SUBSCRIBER_DELETE_BATCH,
  ): Promise<number | null> {
    if (!(await this.lifecycle.disconnect(userId, id))) return null;

    const batchIds = this.connections.manager
      .createQueryBuilder(Subscriber, 'subscriber')
      .select('subscriber.id')
      .where('subscriber.espConnectionId = :id')
      .limit(batchSize)
      .getQuery();
    let deleted = 0;
    for (;;) {
      const batch = await this.connections.manager
        .createQueryBuilder()
        .delete()
        .from(Subscriber)
        .where(`id IN (${batchIds})`)
        .setParameters({ id })
        .execute();
      const affected = batch.affected ?? 0;
      deleted += affected;
      if (affected < batchSize) break;
    }
    // A sync still running may have added a few rows since; the cascade takes those.
    await this.connections.delete({ id, userId });
    return deleted;
  }
}
