import { ApiProperty } from '@nestjs/swagger';

/** `{ success: true }`: the answer of an action with nothing else to say. */
export class SuccessResponseDto {
  @ApiProperty({ example: true })
  success: true;
}
