import { createHash } from 'node:crypto';
import type { EspType } from '../../entities/esp-connection.entity';
import type { EspCredentialKind } from './esp-rate-budget';

/**
 * The Redis key of one credential's budget: `<prefix>:esp-budget:<esp>:<kind>:{<hash>}`. The
 * credential appears only as a SHA-256 digest (ESP keys are long random strings, so the digest
 * cannot be reversed by guessing), so a Redis dump or `MONITOR` never shows a key. The same key
 * in the api and in every worker names the same budget; QUEUE_PREFIX keeps deployments (and test
 * runs) sharing one Redis apart.
 */
export function budgetKey(
  prefix: string,
  esp: EspType,
  kind: EspCredentialKind,
  credential: string,
): string {
  const digest = createHash('sha256').update(`${esp}\0${credential}`, 'utf8').digest('hex');
  // The digest in braces is the Redis Cluster hash tag: a budget's keys share one slot. On a
  // cluster QUEUE_PREFIX is a hash tag itself (`{sn}`), and the first brace pair wins: every
  // budget then lies in the queues' slot, which still keeps each script's keys together.
  return `${prefix}:esp-budget:${esp}:${kind}:{${digest.slice(0, 40)}}`;
}
