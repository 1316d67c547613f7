import { gaugeOf, METRICS } from '@subscribernest/shared';
/** Why an export was not let in: its user has as many running as allowed, or the process has. */
export type ExportRefusal = 'user' | 'overall';

/** A running export's place; give it back exactly once, however the export ends. */
export interface ExportSlot {
  /** Frees the place (calling it again does nothing). */
  release(): void;
}

/** What `tryAcquire` answers: a slot, or why there is none. */
export type ExportAdmission = { slot: ExportSlot } | { refused: ExportRefusal };

export interface ExportSlotLimits {
  /** Exports running at once in this process, whoever runs them. */
  maxConcurrent: number;
  /** Exports one user runs at once in this process. */
  maxPerUser: number;
}

/**
 * Counts running export downloads, per user and in total, so that one user cannot take every
 * export in the process, and exports together never take more database connections than their
 * pool has (EXPORT_MAX_CONCURRENT is both the total and that pool's size).
 *
 * The counts are per process, on purpose: what they protect — the export pool — is per process
 * too, and an in-memory count cannot leak a slot when a replica dies (a Redis counter would need
 * leases and heartbeats for that). With several api replicas behind a load balancer, one user may
 * run up to `maxPerUser` exports on each of them.
 */
export class ExportSlots {
  private readonly perUser = new Map<string, number>();
  private total = 0;
  private readonly inFlight = gaugeOf(METRICS.exportsInFlight);

  constructor(readonly limits: ExportSlotLimits) {}

  /** Exports running now in this process. */
  get running(): number {
    return this.total;
  }

  /** Exports `userId` runs now in this process. */
  runningFor(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /**
   * A slot for one more export of `userId`, or the reason it must wait. The user's own limit is
   * checked first, so a user at it hears about their exports rather than about a busy server.
   */
  tryAcquire(userId: string): ExportAdmission {
    const mine = this.runningFor(userId);
    if (mine >= this.limits.maxPerUser) return { refused: 'user' };
    if (this.total >= this.limits.maxConcurrent) return { refused: 'overall' };
    this.perUser.set(userId, mine + 1);
    this.total++;
    this.inFlight.inc();
    let released = false;
    return {
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.total--;
          this.inFlight.dec();
          const left = this.runningFor(userId) - 1;
          if (left > 0) this.perUser.set(userId, left);
          else this.perUser.delete(userId);
        },
      },
    };
  }
}
