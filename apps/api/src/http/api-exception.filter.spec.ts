import { DecryptionError } from '@subscribernest/shared';
import { BadRequestException, Logger, UnauthorizedException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { ApiExceptionFilter, safeError } from './api-exception.filter';
import { TooManyRequestsException } from './too-many-requests.exception';

function queryError(code: string, message: string): QueryFailedError {
  return new QueryFailedError('SELECT $1', ['jane@example.com'], {
    name: 'error',
    message,
    code,
    detail: 'Key (lower(email))=(jane@example.com) already exists.',
  } as unknown as Error);
}

describe('ApiExceptionFilter', () => {
  const filter = new ApiExceptionFilter({} as HttpAdapterHost);

  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterAll(() => jest.restoreAllMocks());

  it('passes HTTP exceptions through, field messages included', () => {
    const result = filter.describe(
      new BadRequestException({
        statusCode: 400,
        message: ['x'],
        error: 'Bad Request',
        fields: {},
      }),
    );
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      statusCode: 400,
      message: ['x'],
      error: 'Bad Request',
      fields: {},
    });
  });

  it('adds Retry-After to a 429 and WWW-Authenticate to a 401', () => {
    expect(filter.describe(new TooManyRequestsException('slow down', 42)).headers).toEqual({
      'Retry-After': '42',
    });
    expect(filter.describe(new UnauthorizedException()).headers).toEqual({
      'WWW-Authenticate': 'Bearer',
    });
  });

  it('answers a Postgres data exception with 400 and a unique violation with 409, nothing more', () => {
    const bad = filter.describe(queryError('22P02', 'invalid input syntax for type uuid: "x"'));
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ statusCode: 400, message: 'Invalid input', error: 'Bad Request' });
    const conflict = filter.describe(queryError('23505', 'duplicate key value'));
    expect(conflict.status).toBe(409);
    expect(JSON.stringify(conflict.body)).not.toContain('jane@example.com');
  });

  it('answers client errors of http-errors with their status and message', () => {
    const error = Object.assign(new Error('request entity too large'), {
      status: 413,
      expose: true,
    });
    expect(filter.describe(error)).toMatchObject({
      status: 413,
      body: { statusCode: 413, message: 'request entity too large', error: 'Payload Too Large' },
    });
  });

  it('answers a secret the keys cannot open with a 500 that says so, without the ciphertext', () => {
    const result = filter.describe(new DecryptionError('unknown key id "old"'));
    expect(result.status).toBe(500);
    expect(JSON.stringify(result.body)).toContain('cannot be decrypted with the configured keys');
    expect(JSON.stringify(result.body)).not.toContain('old');
  });

  it('answers anything else with a bare 500', () => {
    for (const thrown of [
      new Error('password authentication failed for user "app"'),
      queryError('42P01', 'relation "x" does not exist'),
      Object.assign(new Error('boom'), { status: 502, expose: false }),
      'a string',
      undefined,
    ]) {
      expect(filter.describe(thrown)).toEqual({
        status: 500,
        body: { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' },
        headers: {},
      });
    }
  });
});

describe('safeError', () => {
  it('keeps name, message, stack and SQLSTATE, never query parameters or driver detail', () => {
    const logged = JSON.stringify(safeError(queryError('23505', 'duplicate key value')));
    expect(logged).toContain('QueryFailedError');
    expect(logged).toContain('SQLSTATE 23505');
    expect(logged).not.toContain('jane@example.com');
  });
});

describe('ApiExceptionFilter when the database is unavailable', () => {
  const filter = new ApiExceptionFilter({} as HttpAdapterHost);

  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterAll(() => jest.restoreAllMocks());

  it.each([
    [
      'a terminated backend',
      queryError('57P01', 'terminating connection due to administrator command'),
    ],
    ['a deadlock', queryError('40P01', 'deadlock detected')],
    ['a connection exception', queryError('08006', 'connection failure')],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ],
  ])('answers %s with 503 and Retry-After, never a 500', (_what, error) => {
    const result = filter.describe(error);
    expect(result.status).toBe(503);
    expect(result.headers['Retry-After']).toBe('5');
    expect(JSON.stringify(result.body)).not.toContain('jane@example.com');
  });
});
