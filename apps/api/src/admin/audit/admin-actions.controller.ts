import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../auth/roles.decorator';
import { ErrorResponseDto } from '../../http/error-response.dto';
import { adminPage } from '../dto/admin-page.dto';
import { AdminActionDto, AdminActionPageDto, AdminActionQueryDto } from './admin-action.dto';
import { AdminActionRepository } from './admin-action.repository';

@ApiTags('admin')
@AdminOnly()
@Controller('admin/actions')
export class AdminActionsController {
  constructor(private readonly actions: AdminActionRepository) {}

  @Get()
  @ApiOperation({
    summary: 'What admins did, newest first (paged; filter by admin and action)',
    description:
      'Every dead-job retry, manual cron run, tick re-run and queue-board opening, recorded ' +
      'before it runs and finished with the status answered. The queue board itself is read-only.',
  })
  @ApiOkResponse({ type: AdminActionPageDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Bad adminId, action, page or limit',
  })
  async list(@Query() query: AdminActionQueryDto): Promise<AdminActionPageDto> {
    const { rows, total } = await this.actions.list(query);
    return adminPage(rows.map(AdminActionDto.from), total, query);
  }
}
