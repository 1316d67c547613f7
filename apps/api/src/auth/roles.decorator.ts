import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import { UserRole } from '@subscribernest/shared';
import { ErrorResponseDto } from '../http/error-response.dto';

export const ROLES_KEY = 'auth:roles';

/** The caller must have one of `roles` (checked by RolesGuard, after SessionGuard): else 403. */
export const Roles = (...roles: UserRole[]) =>
  applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiForbiddenResponse({
      description: `Needs role ${roles.join(' or ')}`,
      type: ErrorResponseDto,
    }),
  );

/** Admin routes: 401 without a session, 403 for a signed-in non-admin. */
export const AdminOnly = () => Roles('admin');
