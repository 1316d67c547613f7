import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ADMIN_ACTION_METADATA, AdminActionMetadata, AdminActionName } from './admin-action';
import { AdminAuditInterceptor } from './admin-audit.interceptor';

/**
 * Marks a route as an admin action: AdminAuditInterceptor records who did it, to what, when and
 * how it ended, in the log and in `admin_actions`, before and after the handler runs.
 */
export function AdminActionRoute(action: AdminActionName, targetParam?: string) {
  return applyDecorators(
    SetMetadata(ADMIN_ACTION_METADATA, { action, targetParam } satisfies AdminActionMetadata),
    UseInterceptors(AdminAuditInterceptor),
  );
}
