import { ApiProperty } from '@nestjs/swagger';
import { SubscriberDto } from './subscriber.dto';

/** Paging fields shared by every subscriber list answer. */
export abstract class PageFieldsDto {
  @ApiProperty({ description: 'Rows matching the filter, all pages together', example: 1234 })
  total: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'The page answered; null when the request used `cursor`',
    example: 1,
  })
  page: number | null;

  @ApiProperty({ example: 20 })
  limit: number;

  @ApiProperty({ description: '`ceil(total / limit)`', example: 62 })
  totalPages: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the rows after this page; null on the last page',
  })
  nextCursor: string | null;
}

/** One page of a connection's subscribers, in id order. */
export class SubscriberPageDto extends PageFieldsDto {
  @ApiProperty({ type: [SubscriberDto] })
  data: SubscriberDto[];
}
