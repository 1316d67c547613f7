import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { AllowedDuringDeletion } from '../account/allowed-during-deletion.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { SubscriptionRequired } from '../billing/subscription-required.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { SuccessResponseDto } from '../http/success-response.dto';
import { UuidParam } from '../http/uuid-param.decorator';
import { CreateEspConnectionDto } from './dto/create-esp-connection.dto';
import { EspConnectionDto } from './dto/esp-connection.dto';
import { EspListDto } from './dto/esp-list.dto';
import { SubscriberCountDto } from './dto/subscriber-count.dto';
import { UpdateEspConnectionDto } from './dto/update-esp-connection.dto';
import { EspConnectionsService } from './esp-connections.service';

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
};

/** Documents the answers of a route that calls the ESP live. */
const EspFailureResponses = () =>
  applyDecorators(
    ApiTooManyRequestsResponse({
      type: ErrorResponseDto,
      headers: RETRY_AFTER,
      description: 'The ESP is rate-limiting us',
    }),
    ApiBadGatewayResponse({
      type: ErrorResponseDto,
      description: 'The ESP answered with an error, rejected the stored key, or sent nonsense',
    }),
    ApiServiceUnavailableResponse({
      type: ErrorResponseDto,
      description: 'The ESP could not be reached',
    }),
  );

const NOT_FOUND = { type: ErrorResponseDto, description: 'No such connection of the caller' };
const BAD_ID = { type: ErrorResponseDto, description: 'The id is not a UUID' };

@ApiTags('esp-connections')
@Controller('esp-connections')
export class EspConnectionController {
  constructor(private readonly connections: EspConnectionsService) {}

  @Post()
  @SubscriptionRequired('connect an ESP')
  @ApiOperation({
    summary: 'Connect an ESP',
    description:
      'Checks the key and the publication/list with the ESP first; stores the key encrypted. ' +
      'With Stripe billing enabled, needs an active subscription (402 otherwise).',
  })
  @ApiCreatedResponse({ type: EspConnectionDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: "Invalid body, or the ESP's reason for rejecting the credentials",
  })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Already connected' })
  @EspFailureResponses()
  async create(
    @CurrentUser() user: User,
    @Body() body: CreateEspConnectionDto,
  ): Promise<EspConnectionDto> {
    return EspConnectionDto.from(await this.connections.create(user.id, body));
  }

  @Get()
  @ApiOperation({ summary: "The caller's ESP connections" })
  @ApiOkResponse({ type: [EspConnectionDto] })
  async list(@CurrentUser() user: User): Promise<EspConnectionDto[]> {
    return (await this.connections.list(user.id)).map((connection) =>
      EspConnectionDto.from(connection),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'One ESP connection' })
  @ApiOkResponse({ type: EspConnectionDto })
  @ApiBadRequestResponse(BAD_ID)
  @ApiNotFoundResponse(NOT_FOUND)
  async get(@CurrentUser() user: User, @UuidParam('id') id: string): Promise<EspConnectionDto> {
    return EspConnectionDto.from(await this.connections.get(user.id, id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: "Replace a connection's API key",
    description:
      'The new key is checked with the ESP first; an `invalid` connection is active again.',
  })
  @ApiOkResponse({ type: EspConnectionDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: "Invalid body or id, or the ESP's reason for rejecting the key",
  })
  @ApiNotFoundResponse(NOT_FOUND)
  @EspFailureResponses()
  async update(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @Body() body: UpdateEspConnectionDto,
  ): Promise<EspConnectionDto> {
    return EspConnectionDto.from(await this.connections.replaceKey(user.id, id, body.apiKey));
  }

  @Delete(':id')
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Delete a connection',
    description:
      'Its subscribers (deleted in batches) and sync history go with it. Allowed while the ' +
      'account waits for deletion.',
  })
  @ApiOkResponse({ type: SuccessResponseDto })
  @ApiBadRequestResponse(BAD_ID)
  @ApiNotFoundResponse(NOT_FOUND)
  async remove(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
  ): Promise<SuccessResponseDto> {
    await this.connections.remove(user.id, id);
    return { success: true };
  }

  @Get(':id/lists')
  @ApiOperation({
    summary: 'Publications/lists the stored key can see, live from the ESP',
    description:
      'Each with `syncable` (= `subscriberCount`: what a complete sync stores) and `total` ' +
      '(everything the ESP holds), counted as `GET /esp-connections/:id/subscriber-count` does.',
  })
  @ApiOkResponse({ type: [EspListDto] })
  @ApiBadRequestResponse(BAD_ID)
  @ApiNotFoundResponse(NOT_FOUND)
  @EspFailureResponses()
  lists(@CurrentUser() user: User, @UuidParam('id') id: string): Promise<EspListDto[]> {
    return this.connections.lists(user.id, id);
  }

  @Get(':id/subscriber-count')
  @ApiOperation({
    summary: "The ESP's subscriber counts for the connection's list, live",
    description:
      '`syncable` is what a complete sync stores (and what the synced list holds after one), ' +
      '`total` everything the ESP holds, statuses we do not sync included; `count` is ' +
      '`syncable`. The same numbers for every ESP, and as `GET /esp-connections/:id/lists`.',
  })
  @ApiOkResponse({ type: SubscriberCountDto })
  @ApiBadRequestResponse(BAD_ID)
  @ApiNotFoundResponse(NOT_FOUND)
  @EspFailureResponses()
  async subscriberCount(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
  ): Promise<SubscriberCountDto> {
    const counts = await this.connections.subscriberCount(user.id, id);
    return { count: counts.syncable, ...counts };
  }
}
