import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  EncryptionService,
  EspSubscriber,
  maskEmail,
  isStorableExternalId,
  PageSkips,
  sanitizeSubscriber,
  SkipReason,
  SubscriberCandidate,
  SubscriberContent,
  SubscriberPage,
  SubscriberRow,
  subscriberContentHash,
  subscriberCopyLine,
  SyncPass,
  SyncRunLifecycle,
  WorkerEnv,
} from '@subscribernest/shared';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { readAhead } from './read-ahead';

/**
 * Subscribers prepared between two turns of the event loop. Preparing a batch is a few tens of
 * milliseconds of CPU, and it runs while the previous batch is written: in one piece it held every
 * reply of that write's transaction (six round trips) until it ended, so Postgres sat idle in
 * transaction for most of it. In slices, a reply waits at most one slice (about a millisecond).
 */
const PREPARE_SLICE_ROWS = 200;

/** Consecutive ESP pages, prepared for one write (SyncRunLifecycle.storePage). */
export interface SyncBatch {
  /** New or changed subscribers, encrypted: what the write upserts. */
  rows: SubscriberRow[];
  /** Subscribers whose stored copy is identical: only marked seen, never sanitized or sent. */
  unchanged: string[];
  skips: PageSkips;
  /** ESP pages in the batch. */
  pages: number;
  /** The last page's cursor: where the pass resumes once this batch is stored. */
  nextCursor: string | null;
  /** The ESP's clock at the batch's first page. */
  serverDate: Date | null;
}

/** A subscriber as the ESP listed it, with its content hash: enough to compare it with its stored copy. */
interface Listed extends SubscriberCandidate {
  subscriber: EspSubscriber;
  /** `JSON.stringify(subscriber.metadata ?? {})`: hashed, and sent as it is if sanitizing keeps it. */
  metadataJson: string;
}

/** A batch's subscribers, hashed in the order the ESP listed them. */
interface ListedBatch {
  listed: Listed[];
  /** Subscribers whose id cannot be stored: nothing to compare, the sanitizer skips them. */
  unstorable: EspSubscriber[];
  /** Ids listed more than once in the batch: never called unchanged (see prepare). */
  repeated: Set<string>;
}

interface Candidate {
  content: SubscriberContent;
  email: string;
}

/**
 * Turns a pass's ESP pages into write batches of at least SYNC_WRITE_BATCH_ROWS subscribers
 * (whole pages; the last batch ends the pass): one transaction per batch instead of one per
 * 100-row beehiiv page. Each batch is hashed as the ESP listed it, compared with what is stored
 * (one read), and only its new or changed subscribers are sanitized (one odd row never fails the
 * batch), HMAC'd and encrypted, so an unchanged re-sync stops at one hash per subscriber and
 * writes nothing but the seen ids.
 */
@Injectable()
export class SyncBatchBuilder {
  private readonly batchRows: number;

  constructor(
    private readonly encryption: EncryptionService,
    private readonly lifecycle: SyncRunLifecycle,
    config: ConfigService<WorkerEnv, true>,
  ) {
    this.batchRows = config.get('SYNC_WRITE_BATCH_ROWS', { infer: true });
  }

  /**
   * The batches of `pages`, the pages of batch k+1 fetched while batch k is prepared (readAhead),
   * so that with the caller's own readAhead a pass fetches, prepares and writes at once.
   */
  async *batches(
    pass: SyncPass,
    pages: AsyncIterable<SubscriberPage>,
    flushNow: () => boolean = () => false,
  ): AsyncGenerator<SyncBatch, void, undefined> {
    // A first sync has nothing stored to compare with: every row is new (a duplicate within the
    // pass is the upsert's to settle), so the comparison read is skipped.
    const compare = await this.lifecycle.hasSubscribers(pass.connectionId);
    // The ids of the batch handed out last: it may still be being written while this one is
    // compared (the caller's readAhead), so a stale read must not call one of them unchanged.
    let inFlight = new Set<string>();
    for await (const group of readAhead(this.groups(pages, flushNow))) {
      const batch = await this.prepare(pass, group, compare, inFlight);
      inFlight = new Set(batch.rows.map((row) => row.externalId));
      yield batch;
    }
  }

  /**
   * Consecutive pages holding at least SYNC_WRITE_BATCH_ROWS subscribers; the last group ends the
   * pass. A group closes early when `flushNow()` says so after a page (shutdown asks the job to
   * hand back) and when the stream fails: the pages read before the failure are stored first, as
   * they were when every page was its own write, so a pass that keeps hitting 429s still moves
   * forward between its delays. A stream that ends without a page saying the pass is complete
   * hands over what it read (the caller treats the missing end as an error after storing it).
   */
  private async *groups(
    pages: AsyncIterable<SubscriberPage>,
    flushNow: () => boolean,
  ): AsyncGenerator<SubscriberPage[], void, undefined> {
    let group: SubscriberPage[] = [];
    let size = 0;
    try {
      for await (const page of pages) {
        group.push(page);
        size += page.subscribers.length + page.skipped;
        if (size >= this.batchRows || page.nextCursor === null || flushNow()) {
          const full = group;
          group = [];
          size = 0;
          yield full;
        }
      }
    } catch (error) {
      if (group.length > 0) yield group;
      throw error;
    }
    if (group.length > 0) yield group;
  }

  private async prepare(
    pass: SyncPass,
    pages: SubscriberPage[],
    compare: boolean,
    inFlight: Set<string>,
  ): Promise<SyncBatch> {
    const { listed, unstorable, repeated } = await this.hash(pages);
    // Compared: ids listed once, not being written by the batch before. An id listed twice is
    // sanitized copy by copy, so that the last storable copy wins as on a first sync.
    const comparable = (entry: Listed) =>
      !repeated.has(entry.externalId) && !inFlight.has(entry.externalId);
    const changed = compare
      ? await this.lifecycle.changedSubscribers(pass, listed.filter(comparable))
      : null;
    const unchanged: string[] = [];
    const toSanitize: Listed[] = [];
    for (const entry of listed) {
      if (changed !== null && comparable(entry) && !changed.has(entry.externalId)) {
        unchanged.push(entry.externalId);
      } else {
        toSanitize.push(entry);
      }
    }
    const { candidates: toWrite, skips } = await this.sanitize(pages, toSanitize, unstorable);
    const rows: SubscriberRow[] = [];
    for (let start = 0; start < toWrite.length; start += PREPARE_SLICE_ROWS) {
      if (start > 0) await nextTurn();
      const slice = toWrite.slice(start, start + PREPARE_SLICE_ROWS);
      const encrypted = this.encryption.encryptMany(slice.map((c) => c.email));
      slice.forEach(({ content, email }, i) => {
        // Every field spelt out, in one shape: spreading the content was a generic copy that
        // cost more per row than building its COPY line.
        const row: SubscriberRow = {
          externalId: content.externalId,
          emailHmac: content.emailHmac,
          status: content.status,
          firstName: content.firstName,
          lastName: content.lastName,
          subscribedAt: content.subscribedAt,
          unsubscribedAt: content.unsubscribedAt,
          metadata: content.metadata,
          contentHash: content.contentHash,
          metadataJson: content.metadataJson,
          emailEncrypted: encrypted[i],
          emailMasked: maskEmail(email),
          copyLine: undefined,
        };
        // A first sync's batch goes in by COPY: its lines are made here, in slices, rather than
        // by the write in one piece that holds the event loop.
        if (!compare) row.copyLine = subscriberCopyLine(row);
        rows.push(row);
      });
    }
    const last = pages[pages.length - 1];
    return {
      rows,
      unchanged,
      skips,
      pages: pages.length,
      nextCursor: last.nextCursor,
      serverDate: pages[0].serverDate,
    };
  }

  /**
   * Hashes every subscriber of the batch as the ESP listed it (subscriberContentHash), before
   * sanitizing or hashing its address: an unchanged re-sync stops at this hash.
   */
  private async hash(pages: SubscriberPage[]): Promise<ListedBatch> {
    const listed: Listed[] = [];
    const unstorable: EspSubscriber[] = [];
    const ids = new Set<string>();
    const repeated = new Set<string>();
    let sliceRows = 0;
    for (const page of pages) {
      for (const subscriber of page.subscribers) {
        if (++sliceRows > PREPARE_SLICE_ROWS) {
          sliceRows = 1;
          await nextTurn();
        }
        const externalId = subscriber.externalId;
        if (!isStorableExternalId(externalId)) {
          unstorable.push(subscriber);
          continue;
        }
        if (ids.has(externalId)) repeated.add(externalId);
        else ids.add(externalId);
        const metadataJson = JSON.stringify(subscriber.metadata ?? {});
        listed.push({
          externalId,
          contentHash: subscriberContentHash(this.encryption, subscriber, metadataJson),
          subscriber,
          metadataJson,
        });
      }
    }
    return { listed, unstorable, repeated };
  }

  /**
   * Makes each subscriber to write storable (subscriber-sanitizer.ts) and hashes its address; the
   * last of duplicate external ids wins. What cannot be stored is counted by reason, with
   * `unmapped` records of statuses we do not keep.
   */
  private async sanitize(
    pages: SubscriberPage[],
    toSanitize: Listed[],
    unstorable: EspSubscriber[],
  ): Promise<{ candidates: Candidate[]; skips: PageSkips }> {
    const byId = new Map<string, Candidate>();
    const skips: PageSkips = { reasons: {}, seenExternalIds: [] };
    const unmapped = pages.reduce((sum, page) => sum + page.skipped, 0);
    if (unmapped > 0) skips.reasons['status-not-stored'] = unmapped;
    const skip = (reason: SkipReason, externalId: string | null) => {
      skips.reasons[reason] = (skips.reasons[reason] ?? 0) + 1;
      if (externalId !== null) skips.seenExternalIds.push(externalId);
    };
    for (const original of unstorable) {
      const sanitized = sanitizeSubscriber(original);
      if (!sanitized.stored) skip(sanitized.reason, sanitized.externalId);
    }
    for (let i = 0; i < toSanitize.length; i++) {
      if (i > 0 && i % PREPARE_SLICE_ROWS === 0) await nextTurn();
      const listed = toSanitize[i];
      const sanitized = sanitizeSubscriber(listed.subscriber, listed.metadataJson);
      if (!sanitized.stored) {
        skip(sanitized.reason, sanitized.externalId);
        continue;
      }
      const subscriber: EspSubscriber = sanitized.subscriber;
      const content: SubscriberContent = {
        externalId: subscriber.externalId,
        emailHmac: this.encryption.emailHmac(subscriber.email),
        status: subscriber.status,
        firstName: subscriber.firstName,
        lastName: subscriber.lastName,
        subscribedAt: subscriber.subscribedAt,
        unsubscribedAt: subscriber.unsubscribedAt,
        metadata: subscriber.metadata,
        // The sanitizer returns the metadata itself when it needed no cleaning (nearly always):
        // then the text already made for the hash is the one to send.
        metadataJson:
          subscriber.metadata === listed.subscriber.metadata
            ? listed.metadataJson
            : JSON.stringify(subscriber.metadata),
        contentHash: listed.contentHash,
      };
      byId.set(subscriber.externalId, { email: subscriber.email, content });
    }
    return { candidates: [...byId.values()], skips };
  }
}
