import { ApiProperty } from '@nestjs/swagger';

export class LogoutAllResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ description: 'Sessions revoked, this one included', example: 3 })
  revokedSessions: number;
}
