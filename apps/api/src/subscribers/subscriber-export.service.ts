import { Readable, Transform, TransformCallback } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { EncryptionService } from '@subscribernest/shared';
import { ExportDatabase } from './export-database';
import { ExportRow } from './subscriber-export.format';
import { ExportSubscriberRow, SubscriberRepository } from './subscriber.repository';

/** Batches of decrypted rows the decrypting stage holds at most while its reader is busy. */
const DECRYPTED_BATCHES_BUFFERED = 1;

/**
 * The stage that turns batches of stored rows into batches of export rows, decrypting each
 * address as it passes, and counts them. An address the configured keys cannot open fails the
 * stream with the DecryptionError (which names neither the address nor a key); the rows of its
 * batch before it are passed on first, nothing from it on.
 */
export class ExportRowDecrypter extends Transform {
  /** Rows decrypted so far. */
  rows = 0;
  private failed = false;

  constructor(private readonly encryption: EncryptionService) {
    super({ objectMode: true, highWaterMark: DECRYPTED_BATCHES_BUFFERED });
  }

  override _transform(
    batch: ExportSubscriberRow[],
    _encoding: BufferEncoding,
    callback: TransformCallback,
  ): void {
    // Writable goes on with batches it had buffered after a write failed, within the same tick:
    // nothing after a row that failed may be passed on.
    if (this.failed) {
      callback();
      return;
    }
    const exported: ExportRow[] = [];
    for (const row of batch) {
      try {
        exported.push({
          email: this.encryption.decrypt(row.email_encrypted),
          firstName: row.first_name,
          lastName: row.last_name,
          status: row.status,
          subscribedAt: row.subscribed_at,
          unsubscribedAt: row.unsubscribed_at,
          externalId: row.external_id,
        });
      } catch (error) {
        this.failed = true;
        if (exported.length > 0) this.push(exported);
        callback(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.rows++;
    }
    callback(null, exported);
  }
}

/** The two stages an export starts with: the stored rows, then their decryption. */
export interface ExportSource {
  /**
   * Stored rows in id order, in batches (arrays, object mode), read by one COPY; closes once its
   * connection is back in the export pool.
   */
  rows: Readable;
  /** Batches of stored rows in, batches of export rows out (object mode). */
  decrypter: ExportRowDecrypter;
}

/**
 * Reads a connection's subscribers for an export by COPY and decrypts them as they pass.
 * Nothing reads ahead of the consumer by more than a batch and the socket's buffers: piped into
 * a formatter and the HTTP response, a slow client slows the query, and a client that leaves
 * (the pipeline destroys the streams) ends the query and frees its connection.
 */
@Injectable()
export class SubscriberExportService {
  constructor(
    private readonly subscribers: SubscriberRepository,
    private readonly encryption: EncryptionService,
    private readonly exportDatabase: ExportDatabase,
  ) {}

  /**
   * Starts the export's COPY, taking a connection of the exports' own pool (ExportDatabase)
   * until the rows stream closes.
   */
  async open(userId: string, connectionId: string): Promise<ExportSource> {
    const rows = await this.subscribers.openExportForUser(
      this.exportDatabase.dataSource,
      userId,
      connectionId,
    );
    return { rows, decrypter: new ExportRowDecrypter(this.encryption) };
  }
}
