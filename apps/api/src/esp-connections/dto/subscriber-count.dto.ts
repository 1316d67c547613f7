import { ApiProperty } from '@nestjs/swagger';

export class SubscriberCountDto {
  @ApiProperty({ description: "The ESP's total for the list, every status included" })
  count: number;
}
