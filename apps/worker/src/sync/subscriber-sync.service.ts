import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  DecryptionError,
  describeJobError,
  EncryptionService,
  EspClient,
  EspClientRegistry,
  EspError,
  FinishedRun,
  InvalidCredentialsError,
  InvalidCursorError,
  JOB,
  PassLostError,
  PayloadOf,
  ProtocolError,
  QUEUE,
  RateLimitedError,
  SeenSetLostError,
  SyncCheckpoint,
  SyncPass,
  SyncRunLifecycle,
  WorkerEnv,
} from '@subscribernest/shared';
import { DelayedError, Job, UnrecoverableError, WaitingError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobHandback } from '../ops/job-handback';
import { jobReference } from '../ops/job-handlers';
import { syncFailureReason } from './sync-failure-reason';
import { readAhead } from './read-ahead';
import { SyncBatchBuilder } from './sync-batches';
import { planSync } from './sync-pass-plan';
import { SyncMetrics } from './sync-metrics';

export type SyncPublicationData = PayloadOf<typeof JOB.syncPublication>;

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
 * One `sync-publication` job: start a fenced pass of the run (SyncRunLifecycle), stream the ESP's
 * pages (from the run's checkpoint when resuming), store each page with its checkpoint, finish
 * (ghosts removed) after a complete pass, and record every other ending on the run.
 *
 * Whatever BullMQ does — run the job twice (lock lost in a Redis outage, a blocked event loop), hand
 * it on after a crash — only the newest pass owns the run: an older one stops at its next write
 * (PassLostError) and never deletes anything. A saved cursor the ESP client rejects restarts the
 * pass from the beginning, once. On shutdown, once the drain time is up (JobHandback), the job
 * stops after its current page and goes back to the queue; it resumes from the checkpoint.
 */
@Injectable()
export class SubscriberSyncService {
  private readonly maxRateLimitWaitMs: number;
  private readonly fullPassEveryDays: number;

  constructor(
    private readonly lifecycle: SyncRunLifecycle,
    private readonly encryption: EncryptionService,
    private readonly batches: SyncBatchBuilder,
    private readonly esp: EspClientRegistry,
    private readonly handback: JobHandback,
    private readonly metrics: SyncMetrics,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(SubscriberSyncService.name) private readonly logger: PinoLogger,
  ) {
    this.maxRateLimitWaitMs = config.get('SYNC_MAX_RATE_LIMIT_WAIT_MS', { infer: true });
    this.fullPassEveryDays = config.get('SYNC_FULL_PASS_EVERY_DAYS', { infer: true });
  }

  async run(data: SyncPublicationData, job: Job, token?: string): Promise<SyncOutcome> {
    const { espConnectionId, syncRunId } = data;
    const log = { espConnectionId, syncRunId, jobId: job.id };
    const start = await this.lifecycle.startPass(syncRunId, espConnectionId);
    if (start.kind === 'not-runnable') {
      // A late redelivery of a finished run, or a run deleted with its connection.
      const reason = start.status ? `run already ${start.status}` : 'run not found';
      this.logger.info({ ...log, reason }, 'sync skipped');
      return { status: 'skipped', reason };
    }
    const pass = start.pass;
    try {
      return await this.sync(pass, job, token);
    } catch (error) {
      throw await this.onError(error, pass, job, token);
    }
  }

  private async sync(started: SyncPass, job: Job, token?: string): Promise<SyncOutcome> {
    const { connection } = started;
    if (connection.status !== 'active') {
      throw new UnrecoverableError(`connection is ${connection.status}`);
    }
    const apiKey = this.encryption.decrypt(connection.encryptedApiKey);
    const client = this.esp.get(connection.espType);
    // The first pass plans the run; a resumed one keeps that plan (its cursor was made for it).
    const pass =
      started.mode !== null
        ? started
        : await this.lifecycle.planPass(
            started,
            planSync({
              changeFilter: client.changeFilter,
              watermark: connection.syncWatermark,
              lastFullSyncAt: connection.lastFullSyncAt,
              fullPassEveryDays: this.fullPassEveryDays,
              now: new Date(),
            }),
          );
    const log = { ...this.fields(pass, job), mode: pass.mode, changedSince: pass.changedSince };
    let checkpoint = pass.checkpoint;
    this.logger.info(
      { ...log, resumeFromPage: checkpoint ? checkpoint.pagesDone : null },
      checkpoint ? 'sync resumed from checkpoint' : 'sync started',
    );

    let counts: FinishedRun;
    let seenSetRestarted = false;
    for (;;) {
      const result = await this.passWithCursorRecovery(
        pass,
        token,
        client,
        apiKey,
        checkpoint,
        log,
      );
      if (result.status === 'handed-back') {
        await this.lifecycle.handBack(pass);
        this.logger.info(log, 'sync handed back to the queue on shutdown: resumes from checkpoint');
        throw await this.handback.handBack(job, token);
      }
      try {
        counts = await this.lifecycle.finish(pass);
        this.logger.info({ ...log, ...counts, pagesDone: result.pagesDone }, 'sync finished');
        break;
      } catch (error) {
        // Postgres lost the unlogged seen set in a crash: the pass saw the list, but which ids it
        // saw is gone, so it goes over the list again (once; a second loss is the job's retry).
        if (!(error instanceof SeenSetLostError) || seenSetRestarted) throw error;
        seenSetRestarted = true;
        this.logger.warn(
          { ...log, kept: error.kept, counted: error.counted },
          'sync seen set lost in a Postgres restart: the pass starts over before removing anything',
        );
        await this.lifecycle.restartPass(pass);
        checkpoint = null;
      }
    }
    this.metrics.succeeded(pass, counts);
    return { status: 'success', ...counts };
  }

  /** One pass from `checkpoint`; a saved cursor the ESP client rejects restarts it, once. */
  private async passWithCursorRecovery(
    pass: SyncPass,
    token: string | undefined,
    client: EspClient,
    apiKey: string,
    checkpoint: SyncCheckpoint | null,
    log: Record<string, unknown>,
  ): Promise<PassResult> {
    for (;;) {
      try {
        return await this.pass(pass, token, client, apiKey, checkpoint);
      } catch (error) {
        if (!(error instanceof InvalidCursorError) || checkpoint === null) throw error;
        // The saved cursor cannot be used (the list or the ESP client changed): start over,
        // once. A fresh pass has no saved cursor, so this cannot loop.
        this.logger.warn(
          { ...log, error: error.message, pagesDone: checkpoint.pagesDone },
          'saved sync cursor rejected: checkpoint cleared, restarting the pass from the beginning',
        );
        await this.lifecycle.restartPass(pass);
        checkpoint = null;
      }
    }
  }

  /**
   * Streams the pages from `checkpoint` (or from the start) and stores them batch by batch, each
   * with its checkpoint (the cursor after its last page). The next batch is fetched and prepared
   * while the current one is written (readAhead). Stops early, between two stored batches, when
   * shutdown asks jobs to hand back.
   */
  private async pass(
    pass: SyncPass,
    token: string | undefined,
    client: EspClient,
    apiKey: string,
    checkpoint: SyncCheckpoint | null,
  ): Promise<PassResult> {
    let pagesDone = checkpoint?.pagesDone ?? 0;
    let subscribersSeen = checkpoint?.subscribersSeen ?? 0;
    let espClockAt = checkpoint?.espClockAt;
    const requested = new Date();
    const pages = client.streamSubscribers(
      { apiKey, publicationId: pass.connection.publicationId },
      checkpoint?.cursor ?? null,
      { changedSince: pass.mode === 'incremental' ? pass.changedSince : null },
    );
    for await (const batch of readAhead(
      this.batches.batches(pass, pages, () => this.handback.requested && token !== undefined),
    )) {
      pagesDone += batch.pages;
      subscribersSeen += batch.rows.length + batch.unchanged.length;
      // The pass's first page says when, on the ESP's clock, the pass started: the watermark
      // once it completes (ours, taken before the request, when the ESP sent no Date).
      espClockAt ??= (batch.serverDate ?? requested).toISOString();
      await this.lifecycle.storePage(
        pass,
        batch.rows,
        {
          syncRunId: pass.runId,
          cursor: batch.nextCursor,
          pagesDone,
          subscribersSeen,
          updatedAt: new Date().toISOString(),
          espClockAt,
        },
        batch.skips,
        batch.unchanged,
      );
      if (batch.nextCursor === null) return { status: 'complete', pagesDone };
      if (this.handback.requested && token) return { status: 'handed-back' };
    }
    throw new Error('the ESP stream ended before a complete pass');
  }

  /** Records what the error means for the run and returns what to throw to BullMQ. */
  private async onError(
    error: unknown,
    pass: SyncPass,
    job: Job,
    token?: string,
  ): Promise<unknown> {
    const log = this.fields(pass, job);
    if (error instanceof DelayedError || error instanceof WaitingError) return error;
    if (error instanceof PassLostError) {
      // Another pass owns the run (BullMQ ran the job again) or the run was failed from outside
      // (reaper, deleted connection): this pass wrote nothing since and must not touch the run.
      this.logger.warn({ ...log, error: error.message }, 'sync pass lost its run: stopped');
      return new UnrecoverableError(error.message);
    }
    if (error instanceof RateLimitedError && token) {
      let waited: number;
      try {
        waited = await this.lifecycle.addRateLimitWait(pass, error.retryAfterMs);
      } catch (lost) {
        // The run was taken over or failed while this pass waited on the ESP: end like any
        // lost pass, not as a retryable error that would start the job again.
        if (lost instanceof PassLostError) return this.onError(lost, pass, job, token);
        throw lost;
      }
      if (waited <= this.maxRateLimitWaitMs) {
        this.logger.warn(
          { ...log, retryAfterMs: error.retryAfterMs, rateLimitedMs: waited },
          'sync rate limited: delayed',
        );
        const until = new Date(Date.now() + error.retryAfterMs);
        return this.handback.delay(
          job,
          token,
          until,
          `rate limited by the ESP (429): waiting until ${until.toISOString()}`,
        );
      }
      const reason =
        `The ESP kept rate-limiting this sync for over ${Math.round(this.maxRateLimitWaitMs / 60_000)} ` +
        'minutes in total; it will be tried again at the next scheduled sync';
      return this.failed(pass, job, { reason }, error, 'sync failed: rate-limit wait exhausted');
    }
    if (error instanceof InvalidCredentialsError) {
      return this.failed(
        pass,
        job,
        {
          reason: syncFailureReason(error, jobReference(QUEUE.subscriberSync, job)),
          invalidCredentials: true,
        },
        error,
        'sync failed: invalid credentials',
      );
    }
    if (error instanceof DecryptionError) {
      // An operator problem (a key rotated away without keeping the old one in
      // ENCRYPTION_PREVIOUS_KEYS): no retry can fix it, so fail the run now, saying why.
      return this.failed(
        pass,
        job,
        { reason: 'the stored API key cannot be decrypted with the configured encryption keys' },
        error,
        'sync failed: stored API key cannot be decrypted',
      );
    }
    const message = syncFailureReason(error, jobReference(QUEUE.subscriberSync, job));
    // A malformed page (ProtocolError) is often a proxy's or a vendor's passing fault: retried
    // with the job's backoff like a transient error, not failed at once.
    const retryable =
      !(error instanceof UnrecoverableError) &&
      (!(error instanceof EspError) || error.retryable || error instanceof ProtocolError);
    const attempts = job.opts.attempts ?? 1;
    if (!retryable || job.attemptsMade + 1 >= attempts) {
      return this.failed(
        pass,
        job,
        { reason: message },
        error,
        retryable ? 'sync failed: last attempt' : 'sync failed: not retryable',
      );
    }
    this.logger.warn(
      { ...log, error: describeJobError(error), attemptsMade: job.attemptsMade + 1, attempts },
      'sync attempt failed: will retry',
    );
    return error;
  }

  /** Fails the run for good (fenced: only if this pass still owns it) and stops the job. */
  private async failed(
    pass: SyncPass,
    job: Job,
    failure: { reason: string; invalidCredentials?: boolean },
    error: unknown,
    what: string,
  ): Promise<UnrecoverableError> {
    const owned = await this.lifecycle.failPass(pass, failure);
    this.logger.warn(
      { ...this.fields(pass, job), error: describeJobError(error), recorded: owned },
      what,
    );
    return error instanceof UnrecoverableError ? error : new UnrecoverableError(failure.reason);
  }

  private fields(pass: SyncPass, job: Job) {
    return {
      espConnectionId: pass.connectionId,
      syncRunId: pass.runId,
      jobId: job.id,
      pass: pass.number,
    };
  }
}
