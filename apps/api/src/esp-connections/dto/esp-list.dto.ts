import { ApiProperty } from '@nestjs/swagger';

/**
 * A publication (beehiiv), list (Mailchimp) or account (Kit) the stored key can see, counted as
 * `GET /esp-connections/:id/subscriber-count` counts (SubscriberCountDto).
 */
export class EspListDto {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({
    description: 'Same as `syncable` (kept for existing clients): what a complete sync stores',
  })
  subscriberCount: number;

  @ApiProperty({
    description: 'Subscribers a complete sync stores (statuses active, unsubscribed, bounced)',
  })
  syncable: number;

  @ApiProperty({ description: "The ESP's total, statuses a sync does not store included" })
  total: number;
}
