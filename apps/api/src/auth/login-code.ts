import { randomInt } from 'node:crypto';

/** Six digits from the cryptographic RNG, leading zeros kept. */
export function newLoginCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

/** How addresses are compared and stored for sign-in: trimmed and lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
