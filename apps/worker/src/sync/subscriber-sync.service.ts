import { Injectable } from '@nestjs/common';
import {
  EncryptionService,
  EspClientRegistry,
  EspError,
  EspSubscriber,
  DecryptionError,
  InvalidCredentialsError,
  JOB,
  maskEmail,
  PayloadOf,
  RateLimitedError,
} from '@subscribernest/shared';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { SubscriberRow, SubscriberSyncRepository, SyncTarget } from './subscriber-sync.repository';

export type SyncPublicationData = PayloadOf<typeof JOB.syncPublication>;

/** How long a job waits when another worker holds the connection's sync lock. */
export const SYNC_LOCK_RETRY_MS = 5_000;

export type SyncOutcome =
  | { status: 'skipped'; reason: string }
  | {
      status: 'success';
      subscriberCount: number;
      created: number;
      updated: number;
      removed: number;
    };

/**
 * One `sync-publication` job: stream the ESP's pages (from the run's checkpoint when resuming),
 * upsert each page with its checkpoint in one transaction, delete ghosts after a complete pass,
 * and record the outcome on the run, the connection and the day's subscriber-count snapshot.
 */
@Injectable()
export class SubscriberSyncService {
  constructor(
    private readonly repository: SubscriberSyncRepository,
    private readonly encryption: EncryptionService,
    private readonly esp: EspClientRegistry,
    @InjectPinoLogger(SubscriberSyncService.name) private readonly logger: PinoLogger,
  ) {}

  async run(data: SyncPublicationData, job: Job, token?: string): Promise<SyncOutcome> {
    const { espConnectionId, syncRunId } = data;
    const log = { espConnectionId, syncRunId, jobId: job.id };
    // Cheap re-check before taking a connection for the lock (late redelivery of a finished run).
    const before = await this.repository.findTarget(espConnectionId, syncRunId);
    const skip = this.skipReason(before);
    if (skip) {
      this.logger.info({ ...log, reason: skip }, 'sync skipped');
      return { status: 'skipped', reason: skip };
    }

    const lock = await this.repository.tryLockConnection(espConnectionId);
    if (!lock) {
      this.logger.info(log, 'sync of this connection already running elsewhere: delayed');
      await this.delay(job, token, SYNC_LOCK_RETRY_MS);
    }
    try {
      // Re-check under the lock: another worker may have finished the run meanwhile.
      const target = await this.repository.findTarget(espConnectionId, syncRunId);
      const reason = this.skipReason(target);
      if (reason || !target) {
        this.logger.info({ ...log, reason }, 'sync skipped');
        return { status: 'skipped', reason: reason ?? 'gone' };
      }
      return await this.sync(target, job, token);
    } finally {
      await lock?.release();
    }
  }

  private skipReason(target: SyncTarget | null): string | null {
    if (!target) return 'connection or run not found';
    if (target.run.status === 'success' || target.run.status === 'failed') {
      return `run already ${target.run.status}`;
    }
    return null;
  }

  private async sync(target: SyncTarget, job: Job, token?: string): Promise<SyncOutcome> {
    const { connection, run } = target;
    const log = { espConnectionId: connection.id, syncRunId: run.id, jobId: job.id };
    try {
      if (connection.status !== 'active') {
        throw new UnrecoverableError(`connection is ${connection.status}`);
      }
      await this.repository.markRunning(connection.id, run.id);
      const apiKey = this.encryption.decrypt(connection.encryptedApiKey);
      const client = this.esp.get(connection.espType);
      const checkpoint =
        connection.syncCheckpoint?.syncRunId === run.id ? connection.syncCheckpoint : null;
      let pagesDone = checkpoint?.pagesDone ?? 0;
      let subscribersSeen = checkpoint?.subscribersSeen ?? 0;
      this.logger.info(
        { ...log, resumeFromPage: checkpoint ? pagesDone : null },
        checkpoint ? 'sync resumed from checkpoint' : 'sync started',
      );

      let complete = false;
      const pages = client.streamSubscribers(
        { apiKey, publicationId: connection.publicationId },
        checkpoint?.cursor ?? null,
      );
      for await (const page of pages) {
        const rows = this.toRows(page.subscribers);
        pagesDone += 1;
        subscribersSeen += rows.length;
        await this.repository.storePage(connection.id, run.id, rows, {
          syncRunId: run.id,
          cursor: page.nextCursor,
          pagesDone,
          subscribersSeen,
          updatedAt: new Date().toISOString(),
        });
        if (page.nextCursor === null) complete = true;
      }
      if (!complete) throw new Error('the ESP stream ended before a complete pass');

      const totals = await this.repository.finish(connection.id, connection.userId, run.id);
      const counts = await this.countsOf(run.id, totals);
      this.logger.info({ ...log, ...counts, pagesDone }, 'sync finished');
      return { status: 'success', ...counts };
    } catch (error) {
      throw await this.onError(error, target, job, token);
    }
  }

  private async countsOf(
    runId: string,
    totals: { subscriberCount: number; removed: number },
  ): Promise<{ subscriberCount: number; created: number; updated: number; removed: number }> {
    const run = await this.repository.runCounts(runId);
    return { ...totals, created: run.created, updated: run.updated };
  }

  /** Records what the error means for the run and returns what to throw to BullMQ. */
  private async onError(
    error: unknown,
    { connection, run }: SyncTarget,
    job: Job,
    token?: string,
  ): Promise<unknown> {
    const log = { espConnectionId: connection.id, syncRunId: run.id, jobId: job.id };
    if (error instanceof DelayedError) return error;
    if (error instanceof RateLimitedError && token) {
      this.logger.warn({ ...log, retryAfterMs: error.retryAfterMs }, 'sync rate limited: delayed');
      await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
      return new DelayedError();
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof InvalidCredentialsError) {
      await this.repository.markFailed(connection.id, run.id, message, {
        invalidCredentials: true,
      });
      this.logger.warn({ ...log, code: error.code }, 'sync failed: invalid credentials');
      return new UnrecoverableError(message);
    }
    if (error instanceof DecryptionError) {
      // An operator problem (a key rotated away without keeping the old one in
      // ENCRYPTION_PREVIOUS_KEYS): no retry can fix it, so fail the run now, saying why.
      const reason = 'the stored API key cannot be decrypted with the configured encryption keys';
      await this.repository.markFailed(connection.id, run.id, reason);
      this.logger.error(
        { ...log, error: message },
        'sync failed: stored API key cannot be decrypted',
      );
      return new UnrecoverableError(reason);
    }
    if (error instanceof UnrecoverableError || (error instanceof EspError && !error.retryable)) {
      await this.repository.markFailed(connection.id, run.id, message);
      this.logger.warn({ ...log, error: message }, 'sync failed: not retryable');
      return error instanceof UnrecoverableError ? error : new UnrecoverableError(message);
    }
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts) {
      await this.repository.markFailed(connection.id, run.id, message);
      this.logger.error({ ...log, error: message }, 'sync failed: last attempt');
    } else {
      this.logger.warn(
        { ...log, error: message, attemptsMade: job.attemptsMade + 1, attempts },
        'sync attempt failed: will retry',
      );
    }
    return error;
  }

  private async delay(job: Job, token: string | undefined, ms: number): Promise<never> {
    if (!token) throw new Error('cannot delay a job without its lock token');
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  /** Encrypts, hashes and masks each address; the last of duplicate external ids wins. */
  private toRows(subscribers: EspSubscriber[]): SubscriberRow[] {
    const byId = new Map<string, SubscriberRow>();
    for (const subscriber of subscribers) {
      byId.set(subscriber.externalId, {
        externalId: subscriber.externalId,
        emailEncrypted: this.encryption.encrypt(subscriber.email),
        emailHmac: this.encryption.emailHmac(subscriber.email),
        emailMasked: maskEmail(subscriber.email),
        status: subscriber.status,
        firstName: subscriber.firstName,
        lastName: subscriber.lastName,
        subscribedAt: subscriber.subscribedAt,
        unsubscribedAt: subscriber.unsubscribedAt,
        metadata: subscriber.metadata,
      });
    }
    return [...byId.values()];
  }
}
