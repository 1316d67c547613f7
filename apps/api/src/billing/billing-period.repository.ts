import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { BillingPeriod } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/** Reads of `billing_periods` for the billing routes. */
@Injectable()
export class BillingPeriodRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The user's newest `limit` periods, newest month first. */
  findRecent(userId: string, limit: number): Promise<BillingPeriod[]> {
    return this.dataSource.getRepository(BillingPeriod).find({
      where: { userId },
      order: { periodStart: 'DESC', id: 'DESC' },
      take: limit,
    });
  }
}
