import { ApiProperty } from '@nestjs/swagger';
import { SUBSCRIBER_STATUSES, Subscriber, SubscriberStatus } from '@subscribernest/shared';

/** A subscriber as lists show it: the masked address only (see POST /subscribers/:id/unmask). */
export class SubscriberDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'j***@e***.com' })
  maskedEmail: string;

  @ApiProperty({ type: String, nullable: true })
  firstName: string | null;

  @ApiProperty({ type: String, nullable: true })
  lastName: string | null;

  @ApiProperty({ enum: SUBSCRIBER_STATUSES })
  status: SubscriberStatus;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  subscribedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  unsubscribedAt: string | null;

  static from(
    subscriber: Pick<
      Subscriber,
      'id' | 'emailMasked' | 'firstName' | 'lastName' | 'status' | 'subscribedAt' | 'unsubscribedAt'
    >,
  ): SubscriberDto {
    return {
      id: subscriber.id,
      maskedEmail: subscriber.emailMasked,
      firstName: subscriber.firstName,
      lastName: subscriber.lastName,
      status: subscriber.status,
      subscribedAt: subscriber.subscribedAt?.toISOString() ?? null,
      unsubscribedAt: subscriber.unsubscribedAt?.toISOString() ?? null,
    };
  }
}
