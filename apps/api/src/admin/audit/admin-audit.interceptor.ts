import {
  CallHandler,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { catchError, concatMap, from, map, Observable, switchMap, throwError } from 'rxjs';
import { AuthenticatedRequest } from '../../auth/authenticated-request';
import { ADMIN_ACTION_METADATA, AdminActionMetadata } from './admin-action';
import { AdminActionRepository } from './admin-action.repository';

type AuditedRequest = AuthenticatedRequest & {
  id?: unknown;
  params?: Record<string, string | undefined>;
};

/** What the admin was told when the action failed: our own messages, never a stack. */
function failureOf(error: unknown): { statusCode: number; detail: string } {
  if (error instanceof HttpException) {
    const body = error.getResponse();
    const message =
      typeof body === 'object' && body !== null && 'message' in body ? body.message : body;
    return {
      statusCode: error.getStatus(),
      detail: Array.isArray(message) ? message.join('; ') : String(message),
    };
  }
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, detail: 'internal error' };
}

/**
 * The audit of admin actions (routes marked with AdminActionRoute). The attempt is written before
 * the handler runs, so an action is never taken unrecorded: if that write fails, the handler does
 * not run and the admin gets the database error's answer (503). Its end (succeeded with the
 * status answered, or failed with the error's status and message) is written before the answer.
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly actions: AdminActionRepository,
    @InjectPinoLogger(AdminAuditInterceptor.name) private readonly logger: PinoLogger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<AdminActionMetadata | undefined>(
      ADMIN_ACTION_METADATA,
      context.getHandler(),
    );
    const http = context.switchToHttp();
    const request = http.getRequest<AuditedRequest>();
    const adminId = request.auth?.user.id;
    if (!meta || !adminId) return next.handle();

    const entry = {
      adminId,
      action: meta.action,
      target: meta.targetParam ? (request.params?.[meta.targetParam] ?? null) : null,
      requestId: typeof request.id === 'string' ? request.id : null,
    };
    return from(this.actions.begin(entry)).pipe(
      switchMap((id) =>
        next.handle().pipe(
          // The outcome is on record before the admin gets the answer, so whoever reads the
          // audit after a response never finds that action still `pending` (end() never throws).
          concatMap((value: unknown) => {
            const statusCode = http.getResponse<{ statusCode: number }>().statusCode;
            return from(this.end(id, entry, 'succeeded', statusCode, null)).pipe(map(() => value));
          }),
          catchError((error: unknown) => {
            const { statusCode, detail } = failureOf(error);
            return from(this.end(id, entry, 'failed', statusCode, detail)).pipe(
              switchMap(() => throwError(() => error)),
            );
          }),
        ),
      ),
    );
  }

  private async end(
    id: string,
    entry: { adminId: string; action: string; target: string | null },
    outcome: 'succeeded' | 'failed',
    statusCode: number,
    detail: string | null,
  ): Promise<void> {
    const fields = { adminActionId: id, ...entry, outcome, statusCode };
    this.logger.info(detail ? { ...fields, detail } : fields, 'admin action');
    try {
      await this.actions.finish(id, outcome, statusCode, detail);
    } catch (error) {
      // The attempt is on record as `pending`; the log line above says how it ended.
      this.logger.error(
        { ...fields, error: (error as Error).message },
        'admin action: could not record its outcome',
      );
    }
  }
}
