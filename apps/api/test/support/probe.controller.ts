import { Controller, Get } from '@nestjs/common';
import { User } from '@subscribernest/shared';
import { DataSource } from 'typeorm';
import { CurrentUser } from '../../src/auth/current-user.decorator';
import { Public } from '../../src/auth/public.decorator';
import { AdminOnly } from '../../src/auth/roles.decorator';
import { UuidParam } from '../../src/http/uuid-param.decorator';

/**
 * Test-only routes for the cross-cutting pieces no product route exercises yet (the real ones
 * with `:id` and admin rights come with later features).
 */
@Controller('probe')
export class ProbeController {
  constructor(private readonly dataSource: DataSource) {}

  @Get('things/:id')
  thing(@UuidParam('id') id: string, @CurrentUser() user: User) {
    return { id, userId: user.id };
  }

  @Get('admin')
  @AdminOnly()
  admin(@CurrentUser() user: User) {
    return { role: user.role };
  }

  @Get('crash')
  @Public()
  crash(): never {
    throw new Error('connection to db-internal.example:5432 failed for user "app"');
  }

  /** Bad input that only Postgres notices: a data exception, not a server failure. */
  @Get('bad-cast')
  @Public()
  async badCast(): Promise<unknown> {
    return this.dataSource.query('SELECT $1::uuid AS id', ['not-a-uuid']);
  }

  /** A unique violation whose driver detail names the address. */
  @Get('duplicate')
  @Public()
  async duplicate(): Promise<unknown> {
    await this.dataSource.query(`INSERT INTO users (email) VALUES ('dup@example.com')`);
    return this.dataSource.query(`INSERT INTO users (email) VALUES ('DUP@example.com')`);
  }
}
