import { ApiProperty } from '@nestjs/swagger';
import { ESP_TYPES, EspType } from '@subscribernest/shared';
import { PageFieldsDto } from '../../subscribers/dto/subscriber-page.dto';
import { SubscriberDto } from '../../subscribers/dto/subscriber.dto';
import { ListedSubscriberWithEsp } from '../../subscribers/subscriber.repository';

/** A subscriber in the cross-connection list: which connection and ESP it comes from. */
export class DashboardSubscriberDto extends SubscriberDto {
  @ApiProperty({ format: 'uuid' })
  espConnectionId: string;

  @ApiProperty({ enum: ESP_TYPES })
  espType: EspType;

  static fromListed(row: ListedSubscriberWithEsp): DashboardSubscriberDto {
    return {
      ...SubscriberDto.from(row),
      espConnectionId: row.espConnectionId,
      espType: row.espType,
    };
  }
}

/** One page of the caller's subscribers across all connections. */
export class DashboardSubscriberPageDto extends PageFieldsDto {
  @ApiProperty({ type: [DashboardSubscriberDto] })
  data: DashboardSubscriberDto[];
}
