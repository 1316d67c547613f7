import { IncomingMessage, ServerResponse } from 'node:http';
import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { EncryptionService } from '@subscribernest/shared';
import { AuthContext, AuthenticatedRequest } from '../auth/authenticated-request';
import { bearerToken } from '../auth/session-token';
import { SessionService } from '../auth/session.service';
import {
  isQueueBoardSessionRoute,
  QUEUE_BOARD_COOKIE,
  readCookie,
  verifyQueueBoardCookie,
} from './queue-board-cookie';

/**
 * Guards everything under /admin/queues (Bull Board is Express middleware, out of reach of the
 * global guards): a live admin session by `Authorization: Bearer`, or by the board cookie that
 * `POST /admin/queues/session` sets (that route itself is left to the global guards). 401 without either, 403 for a non-admin. Then `ready` must
 * resolve (the board's own Redis calls would hang or fail with Redis down: it answers 503 first).
 * Errors go through ApiExceptionFilter like any other.
 */
export function queueBoardAuthMiddleware(
  sessions: SessionService,
  encryption: EncryptionService,
  ready: () => Promise<void> = () => Promise.resolve(),
) {
  async function authenticate(request: IncomingMessage): Promise<AuthContext | null> {
    const token = bearerToken(request.headers.authorization);
    if (token) return sessions.authenticate(token);
    const cookie = readCookie(request.headers.cookie, QUEUE_BOARD_COOKIE);
    const sessionId = cookie ? verifyQueueBoardCookie(encryption, cookie) : null;
    return sessionId ? sessions.authenticateSessionId(sessionId) : null;
  }

  return async (
    request: AuthenticatedRequest,
    _response: ServerResponse,
    next: (error?: unknown) => void,
  ): Promise<void> => {
    // The api's own route: the global guards check it, and it needs no Redis.
    if (isQueueBoardSessionRoute(request)) return next();
    const auth = await authenticate(request);
    if (!auth) {
      throw new UnauthorizedException(
        'Sign in as an admin first: send Authorization: Bearer <token>, or open a board session ' +
          'with POST /admin/queues/session',
      );
    }
    if (auth.user.role !== 'admin') throw new ForbiddenException('This needs the admin role');
    request.auth = auth;
    await ready();
    next();
  };
}
