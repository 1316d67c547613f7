import { idleCheckInterval, watchIdleReader } from './export-idle-watchdog';

/** A response whose socket state the test sets by hand. */
function fakeResponse() {
  return { writableNeedDrain: false, socket: { bytesWritten: 0 } };
}

describe('watchIdleReader', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const IDLE = 1_000;
  const LOOK = idleCheckInterval(IDLE);

  it('fires once the client has taken nothing for the idle time, not before', () => {
    const response = fakeResponse();
    const onIdle = jest.fn();
    watchIdleReader(response, IDLE, onIdle);
    response.socket.bytesWritten = 64_000;
    response.writableNeedDrain = true;
    jest.advanceTimersByTime(IDLE - LOOK);
    expect(onIdle).not.toHaveBeenCalled();
    jest.advanceTimersByTime(3 * LOOK);
    expect(onIdle).toHaveBeenCalledTimes(1);
    // And only once.
    jest.advanceTimersByTime(10 * IDLE);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('never fires for a slow reader that keeps taking data', () => {
    const response = fakeResponse();
    const onIdle = jest.fn();
    watchIdleReader(response, IDLE, onIdle);
    response.writableNeedDrain = true;
    for (let step = 0; step < 50; step++) {
      jest.advanceTimersByTime(IDLE / 2);
      response.socket.bytesWritten += 16_384;
    }
    expect(onIdle).not.toHaveBeenCalled();
  });

  it('does not count time spent waiting on our side (the response is not waiting to drain)', () => {
    const response = fakeResponse();
    const onIdle = jest.fn();
    watchIdleReader(response, IDLE, onIdle);
    // A slow database: nothing written, but nothing waiting for the client either.
    jest.advanceTimersByTime(10 * IDLE);
    expect(onIdle).not.toHaveBeenCalled();
    // Then the client stalls: the clock starts from there.
    response.writableNeedDrain = true;
    jest.advanceTimersByTime(IDLE - LOOK);
    expect(onIdle).not.toHaveBeenCalled();
    jest.advanceTimersByTime(3 * LOOK);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('stops watching when told to', () => {
    const response = fakeResponse();
    const onIdle = jest.fn();
    const stop = watchIdleReader(response, IDLE, onIdle);
    response.writableNeedDrain = true;
    stop();
    jest.advanceTimersByTime(10 * IDLE);
    expect(onIdle).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('looks at most once a second, and often enough for short idle times', () => {
    expect(idleCheckInterval(30_000)).toBe(1_000);
    expect(idleCheckInterval(1_500)).toBe(150);
    expect(idleCheckInterval(100)).toBe(10);
  });
});
