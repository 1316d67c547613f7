import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ESP_TYPES, EspType } from '@subscribernest/shared';
import { Transform } from 'class-transformer';
import { IsIn, IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';
import { ApiKeyField } from './api-key-field.decorator';

export class CreateEspConnectionDto {
  @ApiProperty({ enum: ESP_TYPES })
  @IsIn(ESP_TYPES)
  espType: EspType;

  @ApiKeyField()
  apiKey: string;

  @ApiPropertyOptional({
    // `string | null` reflects as Object: say what it is.
    type: String,
    nullable: true,
    description:
      'beehiiv publication id or Mailchimp list id (required for both). Optional for Kit, whose ' +
      'account is its one list: the account id is used.',
    maxLength: 255,
    example: 'pub_00000000-0000-0000-0000-000000000000',
  })
  // Kit may leave it out (or null); everyone else must name the publication/list.
  @ValidateIf(
    (body: CreateEspConnectionDto) =>
      body.espType !== 'kit' || (body.publicationId !== undefined && body.publicationId !== null),
  )
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'publicationId must be a string (required for beehiiv and mailchimp)' })
  @IsNotEmpty({ message: 'publicationId must not be empty (required for beehiiv and mailchimp)' })
  @MaxLength(255)
  publicationId?: string | null;
}
