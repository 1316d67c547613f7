import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from './user.dto';

export class CurrentUserResponseDto {
  @ApiProperty({ type: UserDto })
  user: UserDto;
}
