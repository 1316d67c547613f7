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
import { ErrorResponseDto } from '../http/error-response.dto';
import { UuidParam } from '../http/uuid-param.decorator';
import { ExportQueryDto } from './dto/export-query.dto';
import { SubscriberExportService } from './subscriber-export.service';
import {
  EXPORT_CONTENT_TYPES,
  exportFileName,
  exportStream,
  ExportRow,
} from './subscriber-export.format';
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
      'Streamed from the database in batches and decrypted as it goes, at the pace the client ' +
      'reads; a client that disconnects stops it. Columns: email, firstName, lastName, status, ' +
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
    let rows = 0;
    const counted = async function* (batches: AsyncIterable<ExportRow[]>) {
      for await (const batch of batches) {
        rows += batch.length;
        yield batch;
      }
    };
    let clientGone = false;
    response.once('close', () => {
      if (!response.writableFinished) clientGone = true;
    });

    response.statusCode = 200;
    response.setHeader('Content-Type', EXPORT_CONTENT_TYPES[format]);
    response.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
    response.setHeader('Cache-Control', 'no-store');
    const started = Date.now();
    try {
      // pipeline: reads only as fast as the socket drains, and destroys the source (which
      // stops the batch queries) when the response closes early.
      await pipeline(
        exportStream(format, counted(this.exports.rows(user.id, connection))),
        response,
      );
    } catch (error) {
      if (clientGone) {
        this.logger.info(
          { audit: 'subscribers.export', ...audit, rows, ms: Date.now() - started },
          'Subscriber export stopped: the client disconnected',
        );
        return;
      }
      if (!response.headersSent) {
        response.removeHeader('Content-Disposition');
        response.removeHeader('Cache-Control');
        response.removeHeader('Content-Type');
      }
      throw error;
    }
    this.logger.info(
      { audit: 'subscribers.export', ...audit, rows, ms: Date.now() - started },
      'Subscribers exported',
    );
  }
}
