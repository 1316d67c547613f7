import { EspFailure } from './esp-http';
import { FakeFaults } from './fake-esp-types';
import { FakeList } from './fake-list';

export interface FaultDecision {
  latencyMs: number;
  failure?: EspFailure | { kind: 'malformed-body' };
}

interface FaultState {
  faults?: FakeFaults;
  requests: number;
}

/**
 * Counts the requests that touch each list and decides which of them fail. Checks run in a fixed
 * order: latency first (it applies to every request), then the malformed body, the 5xx burst
 * and the rate limit; the first that applies wins.
 */
export class FaultInjector {
  private readonly states = new Map<FakeList, FaultState>();

  /** Replaces the list's faults and restarts its request count. */
  set(list: FakeList, faults: FakeFaults | undefined): void {
    if (faults) validate(faults);
    this.states.set(list, { faults, requests: 0 });
  }

  next(list: FakeList): FaultDecision {
    let state = this.states.get(list);
    if (!state) {
      state = { requests: 0 };
      this.states.set(list, state);
    }
    const n = ++state.requests;
    const faults = state.faults;
    if (!faults) return { latencyMs: 0 };
    const decision: FaultDecision = { latencyMs: faults.latencyMs ?? 0 };
    const burst = faults.serverErrorBurst;
    if (faults.malformedBodyOnRequest === n) {
      decision.failure = { kind: 'malformed-body' };
    } else if (burst && n > burst.afterRequests && n <= burst.afterRequests + burst.count) {
      decision.failure = { kind: 'server-error', status: burst.status ?? 500 };
    } else if (faults.rateLimitEvery && n % faults.rateLimitEvery === 0) {
      decision.failure = {
        kind: 'rate-limited',
        retryAfterSeconds: faults.retryAfterSeconds ?? 1,
        omitRetryAfter: faults.omitRetryAfter ?? false,
      };
    }
    return decision;
  }
}

function validate(faults: FakeFaults): void {
  const check = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < min)) {
      throw new RangeError(`fake ESP faults: ${name} must be a number >= ${min}`);
    }
  };
  check('latencyMs', faults.latencyMs, 0);
  check('rateLimitEvery', faults.rateLimitEvery, 1);
  check('retryAfterSeconds', faults.retryAfterSeconds, 0);
  check('malformedBodyOnRequest', faults.malformedBodyOnRequest, 1);
  check('serverErrorBurst.afterRequests', faults.serverErrorBurst?.afterRequests, 0);
  check('serverErrorBurst.count', faults.serverErrorBurst?.count, 0);
}
