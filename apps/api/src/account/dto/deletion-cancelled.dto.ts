import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../../auth/dto/user.dto';

/** The answer to a cancelled deletion: the user, `deleteRequestedAt` back to null. */
export class DeletionCancelledDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ example: 'Account deletion cancelled' })
  message: string;

  @ApiProperty({ type: UserDto })
  user: UserDto;
}
