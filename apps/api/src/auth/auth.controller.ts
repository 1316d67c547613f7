import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Ip,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { User } from '@subscribernest/shared';
import { AllowedDuringDeletion } from '../account/allowed-during-deletion.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { SuccessResponseDto } from '../http/success-response.dto';
import { AuthService } from './auth.service';
import { AuthContext } from './authenticated-request';
import { CurrentSession } from './current-session.decorator';
import { CurrentUser } from './current-user.decorator';
import { CurrentUserResponseDto } from './dto/current-user-response.dto';
import { OnboardingResponseDto } from './dto/onboarding-response.dto';
import { SendCodeDto } from './dto/send-code.dto';
import { SignInResponseDto } from './dto/sign-in-response.dto';
import { UserDto } from './dto/user.dto';
import { VerifyCodeDto } from './dto/verify-code.dto';
import { Public } from './public.decorator';
import { LogoutAllResponseDto } from './dto/logout-all-response.dto';

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
};

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('send-code')
  @Public()
  @UseGuards(ThrottlerGuard)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Email a one-time sign-in code',
    description:
      'Answers the same whether or not an account exists. The code is valid 10 minutes, once; ' +
      'limited per address and per client IP.',
  })
  @ApiOkResponse({ type: SuccessResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Not a valid email address' })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    headers: RETRY_AFTER,
    description: 'Too many codes for this address or too many requests from this IP',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'The email queue is unavailable; nothing was sent',
  })
  async sendCode(
    @Body() body: SendCodeDto,
    @Ip() ip: string | undefined,
  ): Promise<SuccessResponseDto> {
    await this.auth.sendCode(body.email, ip ?? null);
    return { success: true };
  }

  @Post('verify-code')
  @Public()
  @UseGuards(ThrottlerGuard)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Exchange a code for a session token',
    description: 'Creates the account on first sign-in. Only the newest code of an address works.',
  })
  @ApiOkResponse({ type: SignInResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiUnauthorizedResponse({
    type: ErrorResponseDto,
    description: 'Wrong, expired, used or locked (5 wrong attempts) code',
  })
  @ApiTooManyRequestsResponse({ type: ErrorResponseDto, headers: RETRY_AFTER })
  async verifyCode(
    @Body() body: VerifyCodeDto,
    @Ip() ip: string | undefined,
    @Headers('user-agent') userAgent: string | undefined,
  ): Promise<SignInResponseDto> {
    const { token, user } = await this.auth.verifyCode(body.email, body.code, {
      ip: ip?.slice(0, 64) ?? null,
      userAgent: userAgent?.slice(0, 512) ?? null,
    });
    return { token, user: UserDto.from(user) };
  }

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: CurrentUserResponseDto })
  me(@CurrentUser() user: User): CurrentUserResponseDto {
    return { user: UserDto.from(user) };
  }

  @Post('logout')
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke the current session: its token stops working at once' })
  @ApiOkResponse({ type: SuccessResponseDto })
  async logout(@CurrentSession() session: AuthContext): Promise<SuccessResponseDto> {
    await this.auth.logout(session.sessionId);
    return { success: true };
  }

  @Post('logout-all')
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Sign out everywhere',
    description:
      'Revokes every session of the user, this one included (the "Not you?" link of the sign-in ' +
      'email): every token and queue-board cookie of theirs stops working at once.',
  })
  @ApiOkResponse({ type: LogoutAllResponseDto })
  async logoutAll(@CurrentSession() session: AuthContext): Promise<LogoutAllResponseDto> {
    const revokedSessions = await this.auth.logoutEverywhere(session.user.id, session.sessionId);
    return { success: true, revokedSessions };
  }

  @Post('complete-onboarding')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Mark onboarding as done (idempotent)' })
  @ApiOkResponse({ type: OnboardingResponseDto })
  async completeOnboarding(@CurrentUser() user: User): Promise<OnboardingResponseDto> {
    return { success: true, user: UserDto.from(await this.auth.completeOnboarding(user.id)) };
  }
}
