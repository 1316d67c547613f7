import { ExportSlot, ExportSlots } from './export-slots';

/** The slot `tryAcquire` granted; fails the test when it refused. */
function granted(slots: ExportSlots, userId: string): ExportSlot {
  const admission = slots.tryAcquire(userId);
  if (!('slot' in admission)) throw new Error(`expected a slot, refused: ${admission.refused}`);
  return admission.slot;
}

describe('ExportSlots', () => {
  it('lets a user run up to their limit, then refuses them while others still get in', () => {
    const slots = new ExportSlots({ maxConcurrent: 10, maxPerUser: 2 });
    granted(slots, 'alice');
    granted(slots, 'alice');
    expect(slots.tryAcquire('alice')).toEqual({ refused: 'user' });
    granted(slots, 'bob');
    expect(slots.runningFor('alice')).toBe(2);
    expect(slots.runningFor('bob')).toBe(1);
    expect(slots.running).toBe(3);
  });

  it('refuses everyone once the process-wide limit is reached', () => {
    const slots = new ExportSlots({ maxConcurrent: 3, maxPerUser: 2 });
    granted(slots, 'alice');
    granted(slots, 'alice');
    granted(slots, 'bob');
    expect(slots.tryAcquire('carol')).toEqual({ refused: 'overall' });
    expect(slots.tryAcquire('bob')).toEqual({ refused: 'overall' });
    // A user at their own limit hears about their exports, not about a busy server.
    expect(slots.tryAcquire('alice')).toEqual({ refused: 'user' });
    expect(slots.running).toBe(3);
  });

  it('gives a released slot back to its user and to the total', () => {
    const slots = new ExportSlots({ maxConcurrent: 2, maxPerUser: 2 });
    const first = granted(slots, 'alice');
    granted(slots, 'alice');
    expect(slots.tryAcquire('bob')).toEqual({ refused: 'overall' });
    first.release();
    expect(slots.runningFor('alice')).toBe(1);
    granted(slots, 'bob');
    expect(slots.running).toBe(2);
  });

  it('counts a slot released twice (finish and abort racing) only once', () => {
    const slots = new ExportSlots({ maxConcurrent: 5, maxPerUser: 2 });
    const first = granted(slots, 'alice');
    const second = granted(slots, 'alice');
    first.release();
    first.release();
    expect(slots.runningFor('alice')).toBe(1);
    expect(slots.running).toBe(1);
    second.release();
    expect(slots.runningFor('alice')).toBe(0);
    expect(slots.running).toBe(0);
    // Nothing went below zero: the full allowance is there again.
    granted(slots, 'alice');
    granted(slots, 'alice');
    expect(slots.tryAcquire('alice')).toEqual({ refused: 'user' });
  });

  it('forgets users with nothing running (the map does not grow with every user ever seen)', () => {
    const slots = new ExportSlots({ maxConcurrent: 5, maxPerUser: 1 });
    for (let n = 0; n < 1_000; n++) granted(slots, `user-${n % 5}`).release();
    expect((slots as unknown as { perUser: Map<string, number> }).perUser.size).toBe(0);
    expect(slots.running).toBe(0);
  });
});
