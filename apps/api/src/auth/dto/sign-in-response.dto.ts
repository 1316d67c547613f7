import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from './user.dto';

export class SignInResponseDto {
  @ApiProperty({
    description: 'Session token for `Authorization: Bearer <token>`; valid 30 days unless revoked',
  })
  token: string;

  @ApiProperty({ type: UserDto })
  user: UserDto;
}
