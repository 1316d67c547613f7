import {
  EspError,
  espLabel,
  internalErrorMessage,
  InvalidCredentialsError,
  isInternalError,
  TransientError,
} from '@subscribernest/shared';

/**
 * The error message a failed sync run shows its owner (sync history, the connection's last
 * error): what they can act on, never a database or driver's text. An ESP error says what the
 * vendor did (its messages are written for people, without keys or query strings); our own
 * errors say what went wrong; an internal one gives a reference the operators find in the log.
 */
export function syncFailureReason(error: unknown, reference: string): string {
  if (isInternalError(error)) return internalErrorMessage(reference);
  if (error instanceof InvalidCredentialsError) {
    return `${espLabel(error.espType)} rejected the API key (${error.message}); save a new key to sync again`;
  }
  if (error instanceof TransientError) {
    return `The ESP kept failing or timing out, so the sync stopped (${error.message}); the next scheduled sync tries again`;
  }
  if (error instanceof EspError || error instanceof Error) return error.message;
  return internalErrorMessage(reference);
}
