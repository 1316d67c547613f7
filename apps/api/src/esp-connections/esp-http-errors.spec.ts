import {
  InvalidCredentialsError,
  InvalidCursorError,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  TransientError,
} from '@subscribernest/shared';
import { TooManyRequestsException } from '../http/too-many-requests.exception';
import { credentialsRejected, espRequestFailed } from './esp-http-errors';

describe('espRequestFailed (an ESP call with the stored key)', () => {
  it('maps each ESP error to 429, 502 or 503, never 500', () => {
    const cases = [
      [new RateLimitedError('beehiiv', 'x', 1_500), 429],
      [new TransientError('kit', 'x', 500), 502],
      [new TransientError('kit', 'x', 503), 502],
      [new TransientError('kit', 'network error'), 503],
      [new InvalidCredentialsError('mailchimp', 'x', 401), 502],
      [new NotFoundError('beehiiv', 'x', 404), 502],
      [new ProtocolError('kit', 'x', 200), 502],
      [new InvalidCursorError('kit', 'x')],
    ] as const;
    for (const [error, status = 502] of cases) {
      expect(espRequestFailed(error).getStatus()).toBe(status);
    }
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    const limited = espRequestFailed(new RateLimitedError('kit', 'x', 1_200));
    expect(limited).toBeInstanceOf(TooManyRequestsException);
    expect((limited as TooManyRequestsException).retryAfterSeconds).toBe(2);
    const zero = espRequestFailed(new RateLimitedError('kit', 'x', 0));
    expect((zero as TooManyRequestsException).retryAfterSeconds).toBe(1);
  });
});

describe('credentialsRejected (credentials the caller just sent)', () => {
  it("answers 400 with the ESP's reason for a wrong key, list or refused request", () => {
    const key = credentialsRejected(new InvalidCredentialsError('kit', 'GET /account: HTTP 401'));
    expect(key.getStatus()).toBe(400);
    expect(key.message).toBe('Kit rejected the API key: kit: GET /account: HTTP 401');
    expect(credentialsRejected(new NotFoundError('mailchimp', 'x', 404)).getStatus()).toBe(400);
    expect(credentialsRejected(new ProtocolError('mailchimp', 'x', 400)).getStatus()).toBe(400);
  });

  it('answers ESP outages and rate limits like any ESP call', () => {
    expect(credentialsRejected(new TransientError('beehiiv', 'x', 500)).getStatus()).toBe(502);
    expect(credentialsRejected(new TransientError('beehiiv', 'x')).getStatus()).toBe(503);
    expect(credentialsRejected(new RateLimitedError('beehiiv', 'x', 5_000)).getStatus()).toBe(429);
    expect(credentialsRejected(new ProtocolError('beehiiv', 'bad JSON', 200)).getStatus()).toBe(
      502,
    );
  });
});
