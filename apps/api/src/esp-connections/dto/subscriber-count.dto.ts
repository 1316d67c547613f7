import { ApiProperty } from '@nestjs/swagger';

/**
 * The ESP's live counts for the connection's list, the same two numbers for every ESP (and the
 * same as `GET /esp-connections/:id/lists`): `syncable`, what a complete sync stores (statuses
 * active, unsubscribed and bounced in our model), and `total`, everything the ESP holds (also
 * statuses we do not sync: beehiiv validating/pending/needs_attention/paused, Kit inactive,
 * Mailchimp pending/transactional/archived).
 */
export class SubscriberCountDto {
  @ApiProperty({
    description:
      'Same as `syncable` (kept for existing clients): the number the synced list will hold',
  })
  count: number;

  @ApiProperty({
    description:
      'Subscribers a complete sync stores: every ESP status our model keeps (active, ' +
      'unsubscribed, bounced). Compare it with the synced list',
  })
  syncable: number;

  @ApiProperty({
    description: "The ESP's total for the list, statuses a sync does not store included",
  })
  total: number;
}
