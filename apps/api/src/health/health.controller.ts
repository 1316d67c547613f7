import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import { PlatformHealthService } from '@subscribernest/shared';
import { Public } from '../auth/public.decorator';

@ApiTags('ops')
@Controller('health')
export class HealthController {
  constructor(private readonly health: PlatformHealthService) {}

  /** 200 when Postgres and Redis answer, else 503 naming the one that did not. */
  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Postgres and Redis status; 503 naming what is down' })
  check() {
    return this.health.check();
  }
}
