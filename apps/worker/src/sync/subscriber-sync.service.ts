import { Injectable } from '@nestjs/common';
import {
  EncryptionService,
  EspClient,
  EspClientRegistry,
  EspError,
  EspSubscriber,
  DecryptionError,
  InvalidCredentialsError,
  InvalidCursorError,
  JOB,
  maskEmail,
  PayloadOf,
  RateLimitedError,
} from '@subscribernest/shared';
import { DelayedError, Job, UnrecoverableError, WaitingError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobHandback } from '../ops/job-handback';
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

/** How a pass over the ESP's pages ended. */
type PassResult = { status: 'complete'; pagesDone: number } | { status: 'handed-back' };

/**
 * One `sync-publication` job: stream the ESP's pages (from the run's checkpoint when resuming),
 * upsert each page with its checkpoint in one transaction, delete ghosts after a complete pass,
 * and record the outcome on the run, the connection and the day's subscriber-count snapshot.
 *
 * A saved cursor the ESP client rejects (`InvalidCursorError`: another list, ESP or cursor format)
 * clears the checkpoint and restarts the pass from the beginning, once; on a pass that did not
 * start from a checkpoint it fails the run. On shutdown, once the drain time is up (JobHandback),
 * the job stops after its current page and goes back to the queue; it resumes from the checkpoint.
 */
@Injectable()
export class SubscriberSyncService {
  constructor(
    private readonly repository: SubscriberSyncRepository,
    private readonly encryption: EncryptionService,
    private readonly esp: EspClientRegistry,
    private readonly handback: JobHandback,
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
      let checkpoint =
        connection.syncCheckpoint?.syncRunId === run.id ? connection.syncCheckpoint : null;
      this.logger.info(
        { ...log, resumeFromPage: checkpoint ? checkpoint.pagesDone : null },
        checkpoint ? 'sync resumed from checkpoint' : 'sync started',
      );

      let pass: PassResult;
      for (;;) {
        try {
          pass = await this.pass(target, token, client, apiKey, checkpoint);
          break;
        } catch (error) {
          if (!(error instanceof InvalidCursorError) || checkpoint === null) throw error;
          // The saved cursor cannot be used (the list or the ESP client changed): start over,
          // once. A fresh pass has no saved cursor, so this cannot loop.
          this.logger.warn(
            { ...log, error: error.message, pagesDone: checkpoint.pagesDone },
            'saved sync cursor rejected: checkpoint cleared, restarting the pass from the beginning',
          );
          await this.repository.restartPass(connection.id, run.id);
          checkpoint = null;
        }
      }
      if (pass.status === 'handed-back') {
        this.logger.info(log, 'sync handed back to the queue on shutdown: resumes from checkpoint');
        throw await this.handback.handBack(job, token);
      }
      const { pagesDone } = pass;

      const totals = await this.repository.finish(connection.id, connection.userId, run.id);
      const counts = await this.countsOf(run.id, totals);
      this.logger.info({ ...log, ...counts, pagesDone }, 'sync finished');
      return { status: 'success', ...counts };
    } catch (error) {
      throw await this.onError(error, target, job, token);
    }
  }

  /**
   * Streams the pages from `checkpoint` (or from the start) and stores each with its checkpoint.
   * Stops early, between two stored pages, when shutdown asks jobs to hand back.
   */
  private async pass(
    { connection, run }: SyncTarget,
    token: string | undefined,
    client: EspClient,
    apiKey: string,
    checkpoint: SyncTarget['connection']['syncCheckpoint'],
  ): Promise<PassResult> {
    let pagesDone = checkpoint?.pagesDone ?? 0;
    let subscribersSeen = checkpoint?.subscribersSeen ?? 0;
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
      if (page.nextCursor === null) return { status: 'complete', pagesDone };
      if (this.handback.requested && token) return { status: 'handed-back' };
    }
    throw new Error('the ESP stream ended before a complete pass');
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
    if (error instanceof DelayedError || error instanceof WaitingError) return error;
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
