import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import {
  EncryptionService,
  EspClient,
  EspClientRegistry,
  EspConnection,
  EspError,
  EspType,
  espLabel,
  settleAll,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { EspConnectionRepository } from './esp-connection.repository';
import { credentialsRejected, espRequestFailed } from './esp-http-errors';
import { EspListDto } from './dto/esp-list.dto';

export interface NewConnectionRequest {
  espType: EspType;
  apiKey: string;
  publicationId?: string | null;
}

/**
 * ESP connections: credentials are checked against the ESP before they are stored, the key is
 * stored encrypted (EncryptionService) and leaves it only towards that ESP. Logs name users,
 * connections and ESPs, never a key.
 */
@Injectable()
export class EspConnectionsService {
  constructor(
    private readonly connections: EspConnectionRepository,
    private readonly esps: EspClientRegistry,
    private readonly encryption: EncryptionService,
    @InjectPinoLogger(EspConnectionsService.name) private readonly logger: PinoLogger,
  ) {}

  list(userId: string): Promise<EspConnection[]> {
    return this.connections.findAllForUser(userId);
  }

  async get(userId: string, id: string): Promise<EspConnection> {
    const connection = await this.connections.findOneForUser(userId, id);
    if (!connection) throw new NotFoundException('ESP connection not found');
    return connection;
  }

  /** Validates the credentials with the ESP, then stores the connection (409 if it exists). */
  async create(userId: string, request: NewConnectionRequest): Promise<EspConnection> {
    const { espType, apiKey } = request;
    const validation = await this.client(espType).validate({
      apiKey,
      publicationId: request.publicationId ?? undefined,
    });
    if (!validation.ok) {
      this.logRejected(userId, espType, undefined, validation.error);
      throw credentialsRejected(validation.error);
    }
    const connection = await this.connections.createForUser(userId, {
      espType,
      encryptedApiKey: this.encryption.encrypt(apiKey),
      publicationId: validation.publicationId,
      publicationName: validation.publicationName,
    });
    if (!connection) {
      throw new ConflictException(
        `This ${espLabel(espType)} publication/list (${validation.publicationId}) is already connected`,
      );
    }
    this.logger.info(
      { userId, connectionId: connection.id, espType, publicationId: connection.publicationId },
      'ESP connection created',
    );
    return connection;
  }

  /** Replaces the key after the ESP accepted it for the same publication/list; reactivates. */
  async replaceKey(userId: string, id: string, apiKey: string): Promise<EspConnection> {
    const connection = await this.get(userId, id);
    const validation = await this.client(connection.espType).validate({
      apiKey,
      publicationId: connection.publicationId,
    });
    if (!validation.ok) {
      this.logRejected(userId, connection.espType, id, validation.error);
      throw credentialsRejected(validation.error);
    }
    const updated = await this.connections.replaceKeyForUser(userId, id, {
      encryptedApiKey: this.encryption.encrypt(apiKey),
      publicationName: validation.publicationName,
    });
    if (!updated) throw new NotFoundException('ESP connection not found');
    this.logger.info(
      { userId, connectionId: id, espType: connection.espType, previousStatus: connection.status },
      'ESP connection key replaced',
    );
    return updated;
  }

  async remove(userId: string, id: string): Promise<void> {
    const subscribersDeleted = await this.connections.deleteForUser(userId, id);
    if (subscribersDeleted === null) throw new NotFoundException('ESP connection not found');
    this.logger.info({ userId, connectionId: id, subscribersDeleted }, 'ESP connection deleted');
  }

  /** Every publication/list the stored key can see, live from the ESP. */
  async lists(userId: string, id: string): Promise<EspListDto[]> {
    const connection = await this.get(userId, id);
    const lists = await this.callEsp(connection, (client, apiKey) =>
      client.listPublications(apiKey),
    );
    return lists.map(({ id: listId, name, subscriberCount, total }) => ({
      id: listId,
      name,
      subscriberCount,
      syncable: subscriberCount,
      total,
    }));
  }

  /**
   * The ESP's counts for the connection's list, live: what a complete sync stores (`syncable`)
   * and everything the ESP holds (`total`), counted the same way for every ESP.
   */
  async subscriberCount(userId: string, id: string): Promise<{ syncable: number; total: number }> {
    const connection = await this.get(userId, id);
    return this.callEsp(connection, async (client, apiKey) => {
      const credentials = { apiKey, publicationId: connection.publicationId };
      const [syncable, total] = await settleAll([
        client.countSyncable(credentials),
        client.countSubscribers(credentials),
      ]);
      return { syncable, total };
    });
  }

  private client(espType: EspType): EspClient {
    return this.esps.get(espType);
  }

  /**
   * One ESP call with the stored key. An ESP failure becomes 429/502/503; a rejected key also
   * marks the connection `invalid`, as a sync would.
   */
  private async callEsp<T>(
    connection: EspConnection,
    call: (client: EspClient, apiKey: string) => Promise<T>,
  ): Promise<T> {
    const apiKey = this.encryption.decrypt(connection.encryptedApiKey);
    try {
      return await call(this.client(connection.espType), apiKey);
    } catch (error) {
      if (!(error instanceof EspError)) throw error;
      this.logger.warn(
        {
          userId: connection.userId,
          connectionId: connection.id,
          espType: connection.espType,
          espError: { kind: error.code, status: error.status, message: error.message },
        },
        'ESP request failed',
      );
      if (error.code === 'invalid_credentials') {
        await this.connections.markInvalidForUser(connection.userId, connection.id);
      }
      throw espRequestFailed(error);
    }
  }

  private logRejected(
    userId: string,
    espType: EspType,
    connectionId: string | undefined,
    error: EspError,
  ): void {
    this.logger.info(
      {
        userId,
        connectionId,
        espType,
        espError: { kind: error.code, status: error.status, message: error.message },
      },
      error.retryable ? 'ESP could not check the credentials' : 'ESP credentials not accepted',
    );
  }
}
