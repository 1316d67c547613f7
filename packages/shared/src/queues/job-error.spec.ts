import { describeJobError } from './job-error';

describe('describeJobError', () => {
  it('keeps the name and message only', () => {
    const error = Object.assign(new TypeError('bad input'), { parameters: ['secret'] });
    expect(describeJobError(error)).toBe('TypeError: bad input');
  });

  it('masks addresses and cuts credentials out of headers', () => {
    expect(
      describeJobError(
        new Error('550 rejected jane.doe@example.com (Authorization: Bearer abc.def)'),
      ),
    ).toBe('Error: 550 rejected j***@e***.com (Authorization: Bearer [redacted])');
  });

  it('accepts thrown strings and other values, and bounds the length', () => {
    expect(describeJobError('boom')).toBe('boom');
    expect(describeJobError({ weird: true })).toBe('Unknown error');
    expect(describeJobError(new Error('x'.repeat(5_000)))).toHaveLength(2_000);
  });
});
