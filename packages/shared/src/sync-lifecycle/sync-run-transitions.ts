import { SyncRunStatus } from '../entities/sync-run.entity';

/**
 * Every transition of a sync run, with the states it may start from and the state it ends in.
 * SyncRunLifecycle builds each UPDATE's `status = ANY(...)` from this table, so the table the unit
 * test reads is the one the database enforces. `fenced` transitions also name the pass's token in
 * the same statement: a pass that lost its run (another pass took over, the reaper failed it)
 * changes nothing.
 */
export const SYNC_RUN_TRANSITIONS = {
  /** A pass starts (first start, retry, resume after a crash, or a duplicate run of the job). */
  startPass: { from: ['queued', 'running'], to: 'running', fenced: false },
  /** One page and its checkpoint stored by the owning pass. */
  storePage: { from: ['running'], to: 'running', fenced: true },
  /** The owning pass saw the whole list: ghosts removed, counts final. */
  finish: { from: ['running'], to: 'success', fenced: true },
  /** The owning pass failed for good (invalid key, last attempt, not retryable). */
  failPass: { from: ['running'], to: 'failed', fenced: true },
  /** The owning pass stopped at a safe point (shutdown): the job waits again. */
  handBack: { from: ['running'], to: 'queued', fenced: true },
  /**
   * Nothing drives the run any more (its job died outside the processor, was removed, or no job
   * exists past the reaper's limit), or it could never be enqueued, or its connection went.
   */
  reconcile: { from: ['queued', 'running'], to: 'failed', fenced: false },
  /** An admin retried the dead job: the run waits again and resumes from its checkpoint. */
  resetForRetry: { from: ['failed'], to: 'queued', fenced: false },
} as const satisfies Record<
  string,
  { from: readonly SyncRunStatus[]; to: SyncRunStatus; fenced: boolean }
>;

export type SyncRunTransition = keyof typeof SYNC_RUN_TRANSITIONS;

/** Whether `transition` may start from a run in `status`. */
export function canTransition(transition: SyncRunTransition, status: SyncRunStatus): boolean {
  return (SYNC_RUN_TRANSITIONS[transition].from as readonly SyncRunStatus[]).includes(status);
}

/** The `from` states of a transition, as the `$n::varchar[]` parameter of its UPDATE. */
export function fromStates(transition: SyncRunTransition): string[] {
  return [...SYNC_RUN_TRANSITIONS[transition].from];
}
