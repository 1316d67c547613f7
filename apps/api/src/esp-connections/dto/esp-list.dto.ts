import { ApiProperty } from '@nestjs/swagger';

/** A publication (beehiiv), list (Mailchimp) or account (Kit) the stored key can see. */
export class EspListDto {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: "The ESP's own headline number for the list" })
  subscriberCount: number;
}
