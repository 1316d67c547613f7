import {
  BadGatewayException,
  BadRequestException,
  HttpException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { EspError, espLabel, RateLimitedError } from '@subscribernest/shared';
import { TooManyRequestsException } from '../http/too-many-requests.exception';

/**
 * The HTTP answer for an ESP call made with a key we already store (lists, counts): the caller's
 * request was fine, the ESP was not, so 429 (with Retry-After), 503 (unreachable) or 502.
 * EspError messages are scrubbed of the key by the clients; they are still not echoed here
 * beyond the status, since they name vendor paths that say nothing to a user.
 */
export function espRequestFailed(error: EspError): HttpException {
  const esp = espLabel(error.espType);
  switch (error.code) {
    case 'rate_limited': {
      const seconds = Math.max(1, Math.ceil((error as RateLimitedError).retryAfterMs / 1000));
      return new TooManyRequestsException(
        `${esp} is limiting our requests; try again in ${seconds} s`,
        seconds,
      );
    }
    case 'transient':
      return error.status === undefined
        ? new ServiceUnavailableException(`${esp} could not be reached; try again later`)
        : new BadGatewayException(
            `${esp} answered with an error (HTTP ${error.status}); try again later`,
          );
    case 'invalid_credentials':
      return new BadGatewayException(
        `${esp} rejected the stored API key; the connection is marked invalid until a new key ` +
          'is saved (PATCH /esp-connections/:id)',
      );
    case 'not_found':
      return new BadGatewayException(`${esp} no longer finds this connection's publication/list`);
    default:
      return new BadGatewayException(`${esp} sent an answer we could not understand`);
  }
}

/**
 * The HTTP answer for credentials the caller just sent that the ESP did not accept: 400 naming
 * the ESP's reason (wrong key, unknown publication/list, a request it refused). ESP outages and
 * rate limits are not the caller's fault and answer as `espRequestFailed` does.
 */
export function credentialsRejected(error: EspError): HttpException {
  const esp = espLabel(error.espType);
  const refusedRequest =
    error.code === 'protocol' &&
    error.status !== undefined &&
    error.status >= 400 &&
    error.status < 500;
  switch (true) {
    case error.code === 'invalid_credentials':
      return new BadRequestException(`${esp} rejected the API key: ${error.message}`);
    case error.code === 'not_found':
      return new BadRequestException(
        `${esp} did not find the publication/list for this key: ${error.message}`,
      );
    case refusedRequest:
      return new BadRequestException(`${esp} refused the credentials: ${error.message}`);
    default:
      return espRequestFailed(error);
  }
}
