import { ApiKeyField } from './api-key-field.decorator';

/** Replaces a connection's API key (validated against the ESP first). */
export class UpdateEspConnectionDto {
  @ApiKeyField()
  apiKey: string;
}
