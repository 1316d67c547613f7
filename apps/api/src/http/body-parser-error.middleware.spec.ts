import { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import {
  BodyParserErrorMiddleware,
  holdBodyParserError,
  holdBodyShapeError,
} from './body-parser-error.middleware';
import { MAX_INPUT_DEPTH } from './input-guard';

type Request = IncomingMessage & { body?: unknown };

/** What BodyParserErrorMiddleware fails `request` with after the two holders ran. */
function heldError(request: Request, parseError?: unknown): unknown {
  const response = {} as ServerResponse;
  if (parseError !== undefined) holdBodyParserError(parseError, request, response, () => {});
  holdBodyShapeError(request, response, () => {});
  let failure: unknown;
  new BodyParserErrorMiddleware().use(request, response, (error) => {
    failure = error;
  });
  return failure;
}

const request = (body?: unknown): Request => ({ body }) as Request;

describe('body checks before any route', () => {
  it('lets an ordinary body or no body through', () => {
    expect(heldError(request({ email: 'a@b.co' }))).toBeUndefined();
    expect(heldError(request())).toBeUndefined();
  });

  it('answers a parse error for what it is, without quoting the body', () => {
    const failure = heldError(request(), { type: 'entity.parse.failed', body: '{"code":"1' });
    expect(failure).toBeInstanceOf(BadRequestException);
    expect((failure as Error).message).toBe('Malformed JSON in request body');
    expect(heldError(request(), { type: 'entity.too.large' })).toBeInstanceOf(
      PayloadTooLargeException,
    );
  });

  it('answers 400 saying so for a body that does not match its Content-Encoding', async () => {
    const zlibError = (stream: Transform) =>
      new Promise<Error>((resolve) => {
        stream.on('error', resolve);
        stream.end(Buffer.from('definitely not compressed'));
      });
    for (const stream of [createGunzip(), createInflate(), createBrotliDecompress()]) {
      // What body-parser hands on: a 400 "Bad Request" with the zlib code kept.
      const wrapped = Object.assign(new Error('Bad Request'), {
        status: 400,
        expose: true,
        code: ((await zlibError(stream as Transform)) as Error & { code: string }).code,
      });
      const failure = heldError(request(), wrapped);
      expect(failure).toBeInstanceOf(BadRequestException);
      expect((failure as Error).message).toBe(
        'Request body could not be decompressed: it is not valid data for its Content-Encoding',
      );
    }
  });

  it(`answers 400 for a body nested deeper than ${MAX_INPUT_DEPTH} levels`, () => {
    // 1,500 levels: what made class-transformer overflow the stack (a 500) before.
    const body = JSON.parse(`{"email":${'['.repeat(1500)}${']'.repeat(1500)}}`) as unknown;
    const failure = heldError(request(body));
    expect(failure).toBeInstanceOf(BadRequestException);
    expect((failure as BadRequestException).getResponse()).toMatchObject({
      statusCode: 400,
      fields: { email: [expect.stringContaining('nested too deeply')] },
    });
  });

  it('answers 400 naming the field for text that is not valid Unicode', () => {
    const failure = heldError(request(JSON.parse('{"email":"\\ud800a@b.co"}')));
    expect((failure as BadRequestException).getResponse()).toMatchObject({
      fields: { email: [expect.stringContaining('valid Unicode')] },
    });
  });

  it('keeps the parse error when there is one', () => {
    const failure = heldError(request({ email: '\ud800' }), { type: 'request.aborted' });
    expect((failure as Error).message).toBe('Request body was incomplete');
  });
});
