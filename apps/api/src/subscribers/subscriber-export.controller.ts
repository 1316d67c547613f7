import { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BadRequestException, Controller, Get, Query, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { ApiEnv, User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { CurrentUser } from '../auth/current-user.decorator';
import { safeError } from '../http/api-exception.filter';
import { ErrorResponseDto } from '../http/error-response.dto';
import { TooManyRequestsException } from '../http/too-many-requests.exception';
import { UuidParam } from '../http/uuid-param.decorator';
import { ExportQueryDto } from './dto/export-query.dto';
import { watchIdleReader } from './export-idle-watchdog';
import { ExportSlot, ExportSlots } from './export-slots';
import { ExportSource, SubscriberExportService } from './subscriber-export.service';
import {
  EXPORT_CONTENT_TYPES,
  ExportFormat,
  exportFileName,
  exportFormatter,
} from './subscriber-export.format';
import { SubscribersService } from './subscribers.service';

/**
 * `Retry-After` of an export refused for too many running. When a slot frees is unknowable (a
 * download lasts as long as its client takes); a stalled one frees its slot within
 * EXPORT_IDLE_TIMEOUT_MS, a healthy one of a large list in some seconds.
 */
export const EXPORT_RETRY_AFTER_SECONDS = 10;

/** Who exports what: the ids every export log line carries (never an address). */
interface ExportAudit {
  userId: string;
  espConnectionId: string;
  format: ExportFormat;
}

/**
 * Ends the connection under a response at once with a TCP reset: the client sees its transfer
 * broken off (never a final chunk, so never a file that looks whole), and the kernel drops what it
 * still held for a client that reads nothing instead of trying to deliver it for minutes.
 */
function resetConnection(response: ServerResponse): void {
  const socket = response.socket;
  try {
    if (socket && !socket.destroyed) {
      socket.resetAndDestroy();
      return;
    }
  } catch {
    // Not a TCP socket (resetAndDestroy throws): a plain destroy does.
  }
  response.destroy();
}

@ApiTags('subscribers')
@Controller('esp-connections')
export class SubscriberExportController {
  private readonly idleTimeoutMs: number;

  constructor(
    private readonly subscribers: SubscribersService,
    private readonly exports: SubscriberExportService,
    private readonly slots: ExportSlots,
    config: ConfigService<ApiEnv, true>,
    @InjectPinoLogger(SubscriberExportController.name) private readonly logger: PinoLogger,
  ) {
    this.idleTimeoutMs = config.get('EXPORT_IDLE_TIMEOUT_MS', { infer: true });
  }

  @Get(':id/subscribers/export')
  @ApiOperation({
    summary: "Download a connection's subscribers (CSV, JSON or XLSX)",
    description:
      'Streamed from the database (one COPY) and decrypted as it goes, at the pace the ' +
      'client reads; a client that disconnects stops the query. A failure mid-way breaks the ' +
      'download off (the connection is reset), so a file that arrives whole is complete. Columns: email, firstName, lastName, status, ' +
      'subscribedAt, unsubscribedAt, externalId. CSV cells a spreadsheet would run as a formula ' +
      "(starting with = + - @) are prefixed with '. A user runs a few exports at a time " +
      '(EXPORT_MAX_PER_USER, the api a few in all: EXPORT_MAX_CONCURRENT); one more answers 429 ' +
      'with Retry-After. A client that reads nothing for EXPORT_IDLE_TIMEOUT_MS is cut off ' +
      '(connection reset). `bom=true` (CSV only) starts the file with a UTF-8 byte order mark ' +
      'for Excel.',
  })
  @ApiProduces(...Object.values(EXPORT_CONTENT_TYPES))
  @ApiOkResponse({
    description: 'The file, as an attachment',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename="<publication>-subscribers-<yyyy-mm-dd>.<format>"',
        schema: { type: 'string' },
      },
    },
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad id, format or bom' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such connection of the caller' })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    description: 'The caller (or the api) runs as many exports as allowed; try again later',
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  })
  async export(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @Query() query: ExportQueryDto,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const { format } = query;
    const bom = query.bom === 'true';
    if (bom && format !== 'csv') {
      throw new BadRequestException('bom=true applies to format=csv only');
    }
    const connection = await this.subscribers.connectionOf(user.id, id);
    const fileName = exportFileName(
      connection.publicationName ?? connection.publicationId,
      format,
      new Date(),
    );
    const audit: ExportAudit = { userId: user.id, espConnectionId: connection.id, format };
    const slot = this.admit(audit);
    let source: ExportSource;
    try {
      source = await this.exports.open(user.id, connection.id);
    } catch (error) {
      // Nothing streamed (no connection to be had, …): ApiExceptionFilter answers.
      slot.release();
      throw error;
    }
    // The slot is the rows stream's from here: freed once it has closed, that is once its
    // connection is back in (or dropped from) the export pool, so an export let in finds one
    // free, whichever way the download ends.
    source.rows.once('close', () => slot.release());
    try {
      await this.stream(response, source, { format, bom }, fileName, audit);
    } finally {
      // Already done by pipeline on every path it reached; this covers a throw before it.
      source.rows.destroy();
    }
  }

  /** A slot for this export, or a 429 naming what is full (the caller's exports, or the api's). */
  private admit(audit: ExportAudit): ExportSlot {
    const admission = this.slots.tryAcquire(audit.userId);
    if ('slot' in admission) return admission.slot;
    const { maxPerUser } = this.slots.limits;
    // Info, not warn: a limit doing its job, and a client retrying in a loop would flood warnings.
    this.logger.info(
      { audit: 'subscribers.export', ...audit, refused: admission.refused },
      'Subscriber export refused: too many running',
    );
    throw new TooManyRequestsException(
      admission.refused === 'user'
        ? `You already have ${maxPerUser} export(s) running; wait for one to finish, then try again`
        : 'The server is running as many exports as it can; try again shortly',
      EXPORT_RETRY_AFTER_SECONDS,
    );
  }

  /**
   * Streams the export into `response` and logs how it ended: finished, the client gone, a stage
   * failed, or cut off for reading nothing. Never throws once the stream has started.
   */
  private async stream(
    response: ServerResponse,
    { rows, decrypter }: ExportSource,
    { format, bom }: { format: ExportFormat; bom: boolean },
    fileName: string,
    audit: ExportAudit,
  ): Promise<void> {
    // Who ended an unfinished export: the client (its connection closed first), our side (a
    // stage failed first, and pipeline then destroyed the response), or the idle watchdog.
    let clientGone = false;
    let failed = false;
    let idle = false;
    response.once('close', () => {
      if (!response.writableFinished && !failed) clientGone = true;
    });
    if (response.socket?.destroyed) clientGone = true;

    const started = Date.now();
    const formatter = exportFormatter(format, { bom });
    for (const stage of [rows, decrypter, formatter]) {
      stage.once('error', () => {
        if (!clientGone) failed = true;
      });
    }
    response.statusCode = 200;
    response.setHeader('Content-Type', EXPORT_CONTENT_TYPES[format]);
    response.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
    response.setHeader('Cache-Control', 'no-store');
    const summary = () => ({
      audit: 'subscribers.export',
      ...audit,
      rows: decrypter.rows,
      ms: Date.now() - started,
    });
    // A client that stops reading would otherwise hold its slot and its connection for good.
    const stopWatching = watchIdleReader(response, this.idleTimeoutMs, () => {
      idle = true;
      resetConnection(response);
    });
    try {
      // Backpressure end to end: the COPY's socket is read only as fast as the decrypter, the
      // formatter and the response take its rows. On an error or a client that leaves,
      // pipeline destroys every stage: the COPY is cut short and its connection freed.
      await pipeline(rows, decrypter, formatter, response);
      this.logger.info(summary(), 'Subscribers exported');
    } catch (error) {
      if (idle) {
        // Ids and counts only, like every export log line.
        this.logger.warn(
          { ...summary(), idleTimeoutMs: this.idleTimeoutMs },
          'Subscriber export aborted: the client stopped reading',
        );
      } else if (clientGone) {
        this.logger.info(summary(), 'Subscriber export stopped: the client disconnected');
      } else {
        // Failed mid-way (an address the keys cannot open, the database...). The response is
        // destroyed, not ended: the client sees a broken-off download (no final chunk), never a
        // file that looks complete. The log names the error, never an address or a key.
        response.destroy();
        this.logger.error({ ...summary(), err: safeError(error) }, 'Subscriber export failed');
      }
    } finally {
      stopWatching();
    }
  }
}
