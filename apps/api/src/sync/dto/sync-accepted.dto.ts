import { ApiProperty } from '@nestjs/swagger';
import { EspConnectionDto } from '../../esp-connections/dto/esp-connection.dto';

/** The answer to a sync request: the run that will (or already does) sync the connection. */
export class SyncAcceptedDto {
  @ApiProperty({ format: 'uuid', description: 'The sync run id, also its job id' })
  jobId: string;

  @ApiProperty({
    enum: ['queued', 'running'],
    description: '`queued` for a new run; an unfinished run already there answers with its own',
  })
  status: 'queued' | 'running';

  @ApiProperty({ example: 'Sync queued' })
  message: string;

  @ApiProperty({ type: EspConnectionDto })
  connection: EspConnectionDto;
}
