import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from './user.dto';

export class OnboardingResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: UserDto })
  user: UserDto;
}
