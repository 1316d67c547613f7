import { Logger } from '@nestjs/common';
import { RedisErrorLog } from './redis-error-log';

describe('RedisErrorLog', () => {
  afterEach(() => jest.useRealTimers());

  it('logs each source at most once per interval, then says how many it held back', () => {
    jest.useFakeTimers({ now: 0 });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = new RedisErrorLog(30_000);
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let i = 0; i < 5; i++) log.log('queue email', refused);
    log.log('worker email', refused);
    expect(warn).toHaveBeenCalledTimes(2);

    jest.setSystemTime(30_000);
    log.listener('queue email')(refused);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[2][0]).toEqual({
      msg: 'Redis error',
      source: 'queue email',
      err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:6379' },
      suppressedSinceLast: 4,
    });
    warn.mockRestore();
  });
});
