import {
  childTraceContext,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
} from './trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it('reads a valid version-00 value, keeping only the sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      flags: '01',
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags).toBe('00');
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.flags).toBe('01');
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-01 `)?.traceId).toBe(TRACE);
  });

  it('reads the known fields of a future version and ignores what follows them', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['absent', undefined],
    ['not a string', ['a', 'b']],
    ['empty', ''],
    ['garbage', 'hello'],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with trailing data', `00-${TRACE}-${SPAN}-01-extra`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['two headers joined', `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`],
    ['too long', `01-${TRACE}-${SPAN}-01-${'x'.repeat(600)}`],
  ])('rejects %s', (_why, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('writes what it reads, and makes new traces and child spans', () => {
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, flags: '01' })).toBe(
      `00-${TRACE}-${SPAN}-01`,
    );
    const fresh = newTraceContext();
    expect(parseTraceparent(formatTraceparent(fresh))).toEqual(fresh);
    expect(fresh.flags).toBe('00');
    const child = childTraceContext({ traceId: TRACE, spanId: SPAN, flags: '01' });
    expect(child).toMatchObject({ traceId: TRACE, flags: '01' });
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(SPAN);
  });
});
