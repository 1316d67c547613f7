import { Controller, Get } from '@nestjs/common';
import { HealthCheck } from '@nestjs/terminus';
import { PlatformHealthService } from '@subscribernest/shared';

@Controller('health')
export class HealthController {
  constructor(private readonly health: PlatformHealthService) {}

  /** 200 when Postgres and Redis answer, else 503 naming the one that did not. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check();
  }
}
