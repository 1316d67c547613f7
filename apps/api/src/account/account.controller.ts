import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { AuthContext } from '../auth/authenticated-request';
import { CurrentSession } from '../auth/current-session.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserDto } from '../auth/dto/user.dto';
import { AccountService } from './account.service';
import { AllowedDuringDeletion } from './allowed-during-deletion.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { DeletionCancelledDto } from './dto/deletion-cancelled.dto';
import { DeletionRequestedDto } from './dto/deletion-requested.dto';

@ApiTags('account')
@Controller('account')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Post('delete')
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Request deletion of the account',
    description:
      'The account is deleted after a grace period (ACCOUNT_DELETION_GRACE_DAYS, default 30). ' +
      'Asking again keeps the first date. Every other session of the user is revoked at once ' +
      '(this one stays). Until then only reads, exports, sign-out, deleting a connection and ' +
      'POST /account/delete/cancel are allowed; other changes answer 403.',
  })
  @ApiOkResponse({ type: DeletionRequestedDto })
  async requestDeletion(@CurrentSession() session: AuthContext): Promise<DeletionRequestedDto> {
    const { deletionScheduledFor } = await this.account.requestDeletion(
      session.user.id,
      session.sessionId,
    );
    const on = deletionScheduledFor.toISOString();
    return {
      message:
        `Your account will be deleted on ${on}. Until then you can read and export your data; ` +
        'POST /account/delete/cancel keeps it.',
      deletionScheduledFor: on,
    };
  }

  @Post('delete/cancel')
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Withdraw a pending deletion request (idempotent)' })
  @ApiOkResponse({ type: DeletionCancelledDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'The worker has begun deleting the account: it will be finished',
  })
  async cancelDeletion(@CurrentUser() user: User): Promise<DeletionCancelledDto> {
    const updated = await this.account.cancelDeletion(user.id);
    return {
      success: true,
      message: user.deleteRequestedAt ? 'Account deletion cancelled' : 'No deletion was pending',
      user: UserDto.from(updated),
    };
  }
}
