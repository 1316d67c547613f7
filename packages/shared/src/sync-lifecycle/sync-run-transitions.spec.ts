import { SYNC_RUN_STATUSES, SyncRunStatus } from '../entities/sync-run.entity';
import { canTransition, SYNC_RUN_TRANSITIONS, SyncRunTransition } from './sync-run-transitions';

/** The allowed moves, one row per transition: from each state, where it goes (or `-`: refused). */
const TABLE: Record<SyncRunTransition, Record<SyncRunStatus, SyncRunStatus | '-'>> = {
  startPass: { queued: 'running', running: 'running', success: '-', failed: '-' },
  storePage: { queued: '-', running: 'running', success: '-', failed: '-' },
  finish: { queued: '-', running: 'success', success: '-', failed: '-' },
  failPass: { queued: '-', running: 'failed', success: '-', failed: '-' },
  handBack: { queued: '-', running: 'queued', success: '-', failed: '-' },
  reconcile: { queued: 'failed', running: 'failed', success: '-', failed: '-' },
  resetForRetry: { queued: '-', running: '-', success: '-', failed: 'queued' },
};

describe('sync run transitions', () => {
  const cases = (Object.keys(TABLE) as SyncRunTransition[]).flatMap((transition) =>
    SYNC_RUN_STATUSES.map((from) => [transition, from, TABLE[transition][from]] as const),
  );

  it.each(cases)('%s from %s → %s', (transition, from, expected) => {
    expect(canTransition(transition, from)).toBe(expected !== '-');
    if (expected !== '-') expect(SYNC_RUN_TRANSITIONS[transition].to).toBe(expected);
  });

  it('never leave a finished run but through an admin retry of a failed one', () => {
    const leaving = (Object.keys(TABLE) as SyncRunTransition[]).filter(
      (transition) => canTransition(transition, 'success') || canTransition(transition, 'failed'),
    );
    expect(leaving).toEqual(['resetForRetry']);
  });

  it('fence every transition a pass makes on a run it must own', () => {
    const fenced = (Object.keys(SYNC_RUN_TRANSITIONS) as SyncRunTransition[]).filter(
      (transition) => SYNC_RUN_TRANSITIONS[transition].fenced,
    );
    expect(fenced).toEqual(['storePage', 'finish', 'failPass', 'handBack']);
  });
});
