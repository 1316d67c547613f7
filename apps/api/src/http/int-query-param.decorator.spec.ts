import { BadRequestException } from '@nestjs/common';
import { AdminPageQueryDto } from '../admin/dto/admin-page.dto';
import {
  SUBSCRIBERS_MAX_PAGED_ROWS,
  SubscriberListQueryDto,
} from '../subscribers/dto/subscriber-list-query.dto';
import { SyncHistoryQueryDto } from '../sync/dto/sync-history-query.dto';
import { ApiValidationPipe } from './api-validation.pipe';
import { IntQueryParam, MAX_PAGE } from './int-query-param.decorator';

class Query {
  @IntQueryParam({ minimum: 1, maximum: 100, default: 20 })
  limit: number = 20;
}

const parse = (metatype: new () => object, query: Record<string, unknown>) =>
  new ApiValidationPipe().transform(query, { type: 'query', metatype });

async function fields(
  metatype: new () => object,
  query: Record<string, unknown>,
): Promise<Record<string, string[]>> {
  try {
    await parse(metatype, query);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { fields: Record<string, string[]> })
      .fields;
  }
  throw new Error('expected a 400');
}

describe('IntQueryParam', () => {
  it('turns a whole number in range into a number, and keeps the default when absent', async () => {
    await expect(parse(Query, { limit: '7' })).resolves.toMatchObject({ limit: 7 });
    await expect(parse(Query, { limit: '100' })).resolves.toMatchObject({ limit: 100 });
    await expect(parse(Query, {})).resolves.toMatchObject({ limit: 20 });
  });

  it.each([
    ['-1', 'limit must not be less than 1'],
    ['0', 'limit must not be less than 1'],
    ['', 'limit must not be less than 1'],
    ['101', 'limit must not be greater than 100'],
    ['1e308', 'limit must not be greater than 100'],
    ['100000000000000000000', 'limit must not be greater than 100'],
    ['NaN', 'limit must be an integer number'],
    ['abc', 'limit must be an integer number'],
    ['1.5', 'limit must be an integer number'],
    ['9'.repeat(400), 'limit must be an integer number'],
  ])('answers 400 naming the parameter for %j', async (value, message) => {
    expect((await fields(Query, { limit: value }))['limit']).toContain(message);
  });

  it('answers 400 naming the parameter when it is repeated or an object', async () => {
    expect(Object.keys(await fields(Query, { limit: ['1', '2'] }))).toEqual(['limit']);
    expect(Object.keys(await fields(Query, { limit: { a: '1' } }))).toEqual(['limit']);
  });

  it('bounds the admin lists: page at most MAX_PAGE, limit at most 100', async () => {
    await expect(parse(AdminPageQueryDto, { page: String(MAX_PAGE) })).resolves.toMatchObject({
      page: MAX_PAGE,
    });
    expect(await fields(AdminPageQueryDto, { page: String(MAX_PAGE + 1), limit: '101' })).toEqual({
      page: [`page must not be greater than ${MAX_PAGE}`],
      limit: ['limit must not be greater than 100'],
    });
  });

  it('bounds the subscriber lists: page at most SUBSCRIBERS_MAX_PAGED_ROWS, limit at most 100', async () => {
    const deepest = String(SUBSCRIBERS_MAX_PAGED_ROWS);
    await expect(
      parse(SubscriberListQueryDto, { page: deepest, limit: '1' }),
    ).resolves.toMatchObject({ page: SUBSCRIBERS_MAX_PAGED_ROWS });
    expect(
      await fields(SubscriberListQueryDto, {
        page: String(SUBSCRIBERS_MAX_PAGED_ROWS + 1),
        limit: '101',
      }),
    ).toEqual({
      page: [`page must not be greater than ${SUBSCRIBERS_MAX_PAGED_ROWS}`],
      limit: ['limit must not be greater than 100'],
    });
    expect(await fields(SyncHistoryQueryDto, { limit: '1e308' })).toEqual({
      limit: ['limit must not be greater than 100'],
    });
  });
});
