import { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { CurrentUser } from '../auth/current-user.decorator';
import { safeError } from '../http/api-exception.filter';
import { ErrorResponseDto } from '../http/error-response.dto';
import { UuidParam } from '../http/uuid-param.decorator';
import { ExportQueryDto } from './dto/export-query.dto';
import { SubscriberExportService } from './subscriber-export.service';
import { EXPORT_CONTENT_TYPES, exportFileName, exportFormatter } from './subscriber-export.format';
import { SubscribersService } from './subscribers.service';

@ApiTags('subscribers')
@Controller('esp-connections')
export class SubscriberExportController {
  constructor(
    private readonly subscribers: SubscribersService,
    private readonly exports: SubscriberExportService,
    @InjectPinoLogger(SubscriberExportController.name) private readonly logger: PinoLogger,
  ) {}

  @Get(':id/subscribers/export')
  @ApiOperation({
    summary: "Download a connection's subscribers (CSV, JSON or XLSX)",
    description:
      'Streamed from a server-side database cursor and decrypted as it goes, at the pace the ' +
      'client reads; a client that disconnects stops the query. A failure mid-way breaks the ' +
      'download off (the connection is reset), so a file that arrives whole is complete. Columns: email, firstName, lastName, status, ' +
      'subscribedAt, unsubscribedAt, externalId. CSV cells a spreadsheet would run as a formula ' +
      "(starting with = + - @) are prefixed with '.",
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
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad id or format' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such connection of the caller' })
  async export(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @Query() query: ExportQueryDto,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const connection = await this.subscribers.connectionOf(user.id, id);
    const { format } = query;
    const fileName = exportFileName(
      connection.publicationName ?? connection.publicationId,
      format,
      new Date(),
    );
    const audit = { userId: user.id, espConnectionId: connection.id, format };
    // Who ended an unfinished export: the client (its connection closed first) or our side (a
    // stage failed first, and pipeline then destroyed the response).
    let clientGone = false;
    let failed = false;
    response.once('close', () => {
      if (!response.writableFinished && !failed) clientGone = true;
    });
    if (response.socket?.destroyed) clientGone = true;

    const started = Date.now();
    const { cursor, decrypter } = await this.exports.open(user.id, connection.id);
    const formatter = exportFormatter(format);
    for (const stage of [cursor, decrypter, formatter]) {
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
    try {
      // Backpressure end to end: the cursor fetches its next batch only once the decrypter,
      // the formatter and the socket have taken the previous ones. On an error or a client
      // that leaves, pipeline destroys every stage: the cursor closes and frees its connection.
      await pipeline(cursor, decrypter, formatter, response);
    } catch (error) {
      if (clientGone) {
        this.logger.info(summary(), 'Subscriber export stopped: the client disconnected');
        return;
      }
      // Failed mid-way (an address the keys cannot open, the database...). The response is
      // destroyed, not ended: the client sees a broken-off download (no final chunk), never a
      // file that looks complete. The log names the error, never an address or a key.
      response.destroy();
      this.logger.error({ ...summary(), err: safeError(error) }, 'Subscriber export failed');
      return;
    }
    this.logger.info(summary(), 'Subscribers exported');
  }
}
