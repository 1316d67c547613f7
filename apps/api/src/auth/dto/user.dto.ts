import { ApiProperty } from '@nestjs/swagger';
import { User } from '@subscribernest/shared';

/** The signed-in user as the frontend reads it. */
export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'email' })
  email: string;

  @ApiProperty()
  isOnboarded: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When account deletion was requested; null unless it is pending',
  })
  deleteRequestedAt: string | null;

  static from(user: User): UserDto {
    return {
      id: user.id,
      email: user.email,
      isOnboarded: user.isOnboarded,
      deleteRequestedAt: user.deleteRequestedAt?.toISOString() ?? null,
    };
  }
}
