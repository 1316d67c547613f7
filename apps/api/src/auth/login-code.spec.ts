import { newLoginCode, normaliseEmail } from './login-code';

describe('login codes', () => {
  it('are six digits, zero-padded, and spread over the whole range', () => {
    const codes = Array.from({ length: 2_000 }, newLoginCode);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(1_990);
    expect(codes.some((code) => code.startsWith('0'))).toBe(true);
  });

  it('are bound to a normalised address', () => {
    expect(normaliseEmail('  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
  });
});
