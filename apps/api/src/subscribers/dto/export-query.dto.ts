import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { EXPORT_FORMATS, ExportFormat } from '../subscriber-export.format';

/** `?format=` (and, for CSV, `?bom=`) of an export. */
export class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: `format must be one of: ${EXPORT_FORMATS.join(', ')}` })
  format: ExportFormat = 'csv';

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'CSV only: start the file with a UTF-8 byte order mark, so Excel opens it as UTF-8 ' +
      '(names with accents or emoji) instead of the system code page',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'bom must be true or false' })
  bom?: 'true' | 'false';
}
