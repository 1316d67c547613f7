import { Injectable } from '@nestjs/common';
import { EncryptionService, EspConnection } from '@subscribernest/shared';
import { ExportRow } from './subscriber-export.format';
import { ExportSubscriberRow, SubscriberRepository } from './subscriber.repository';

/** Rows read (and decrypted) per query of an export. */
export const EXPORT_BATCH_SIZE = 1_000;

/**
 * Reads a connection's subscribers for an export, batch by batch in keyset order, decrypting as
 * it goes. Nothing holds more than one batch: the next query runs only when the consumer asks
 * for the next batch, so a slow client slows the reading and a client that leaves stops it.
 */
@Injectable()
export class SubscriberExportService {
  constructor(
    private readonly subscribers: SubscriberRepository,
    private readonly encryption: EncryptionService,
  ) {}

  async *rows(
    userId: string,
    connection: EspConnection,
    batchSize = EXPORT_BATCH_SIZE,
  ): AsyncGenerator<ExportRow[]> {
    let after: string | null = null;
    for (;;) {
      const batch = await this.subscribers.findExportBatchForUser(
        userId,
        connection.id,
        after,
        batchSize,
      );
      if (batch.length === 0) return;
      yield batch.map((row) => this.toExportRow(row));
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].id;
    }
  }

  private toExportRow(row: ExportSubscriberRow): ExportRow {
    return {
      email: this.encryption.decrypt(row.email_encrypted),
      firstName: row.first_name,
      lastName: row.last_name,
      status: row.status,
      subscribedAt: row.subscribed_at?.toISOString() ?? null,
      unsubscribedAt: row.unsubscribed_at?.toISOString() ?? null,
      externalId: row.external_id,
    };
  }
}
