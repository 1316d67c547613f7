import { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnv, EncryptionService } from '@subscribernest/shared';
import { AuthContext } from '../auth/authenticated-request';
import { CurrentSession } from '../auth/current-session.decorator';
import { AdminOnly } from '../auth/roles.decorator';
import {
  QUEUE_BOARD_COOKIE_TTL_MS,
  queueBoardSetCookie,
  signQueueBoardCookie,
} from './queue-board-cookie';
import { AdminActionRoute } from './audit/admin-action-route.decorator';

/** Express sets `secure` on requests that arrived over TLS. */
type PossiblySecureRequest = IncomingMessage & { secure?: boolean };

@ApiTags('admin')
@AdminOnly()
@Controller('admin/queues')
export class QueueBoardController {
  constructor(
    private readonly encryption: EncryptionService,
    private readonly config: ConfigService<ApiEnv, true>,
  ) {}

  @Post('session')
  @AdminActionRoute('queue-board.open')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Open Bull Board in a browser',
    description:
      'Sets a 15-minute cookie (HttpOnly, SameSite=Strict, Path=/admin/queues; Secure in ' +
      'production) that lets this browser load Bull Board at /admin/queues without a bearer ' +
      "header. It is not the session's token and stops working when the session is signed out.",
  })
  @ApiNoContentResponse({ description: 'Cookie set', headers: { 'Set-Cookie': {} } })
  openSession(
    @CurrentSession() session: AuthContext,
    @Req() request: PossiblySecureRequest,
    @Res({ passthrough: true }) response: ServerResponse,
  ): void {
    const value = signQueueBoardCookie(
      this.encryption,
      session.sessionId,
      Date.now() + QUEUE_BOARD_COOKIE_TTL_MS,
    );
    const secure =
      request.secure === true || this.config.get('NODE_ENV', { infer: true }) === 'production';
    response.setHeader('Set-Cookie', queueBoardSetCookie(value, QUEUE_BOARD_COOKIE_TTL_MS, secure));
  }
}
