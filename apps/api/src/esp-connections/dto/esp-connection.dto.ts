import { ApiProperty } from '@nestjs/swagger';
import {
  ESP_CONNECTION_STATUSES,
  ESP_TYPES,
  EspConnection,
  EspConnectionStatus,
  EspType,
  SYNC_STATUSES,
  SyncStatus,
} from '@subscribernest/shared';

/** A connection as the frontend reads it. Never the API key, encrypted or not. */
export class EspConnectionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: ESP_TYPES })
  espType: EspType;

  @ApiProperty({ enum: ['api_key'], example: 'api_key' })
  authMethod: 'api_key';

  @ApiProperty({ description: 'beehiiv publication id, Mailchimp list id, or the Kit account id' })
  publicationId: string;

  @ApiProperty({ type: [String], description: 'The one selected publication/list, as an array' })
  publicationIds: string[];

  @ApiProperty({
    type: [String],
    description: 'Its name, as an array (the id when the ESP gave no name)',
  })
  listNames: string[];

  @ApiProperty({
    enum: ESP_CONNECTION_STATUSES,
    description: '`invalid`: the ESP rejected the key',
  })
  status: EspConnectionStatus;

  @ApiProperty({
    enum: SYNC_STATUSES,
    description: '`syncing` from the moment a sync is accepted until it ends',
  })
  syncStatus: SyncStatus;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastValidatedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastSyncedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  static from(connection: EspConnection): EspConnectionDto {
    return {
      id: connection.id,
      espType: connection.espType,
      authMethod: 'api_key',
      publicationId: connection.publicationId,
      publicationIds: [connection.publicationId],
      listNames: [connection.publicationName ?? connection.publicationId],
      status: connection.status,
      syncStatus: connection.syncStatus,
      lastValidatedAt: connection.lastValidatedAt?.toISOString() ?? null,
      lastSyncedAt: connection.lastSyncedAt?.toISOString() ?? null,
      createdAt: connection.createdAt.toISOString(),
    };
  }
}
