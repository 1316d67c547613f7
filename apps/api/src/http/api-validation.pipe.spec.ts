import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Min, ValidateNested } from 'class-validator';
import { ApiValidationPipe } from './api-validation.pipe';
import { uuidPipe } from './uuid-param.decorator';

class Item {
  @IsString()
  name: string;
}

class Payload {
  @IsEmail()
  email: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number;

  @ValidateNested({ each: true })
  @Type(() => Item)
  items: Item[];
}

async function rejection(value: unknown): Promise<Record<string, unknown>> {
  try {
    await new ApiValidationPipe().transform(value, { type: 'body', metatype: Payload });
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).getResponse() as Record<string, unknown>;
  }
  throw new Error('expected a 400');
}

describe('ApiValidationPipe', () => {
  it('turns a valid payload into its DTO class, converting declared types', async () => {
    const dto = await new ApiValidationPipe().transform(
      { email: 'a@b.co', page: '2', items: [{ name: 'x' }] },
      { type: 'body', metatype: Payload },
    );
    expect(dto).toBeInstanceOf(Payload);
    expect(dto).toMatchObject({ page: 2 });
  });

  it('answers 400 with a message per field, nested paths included, never the values', async () => {
    const body = await rejection({ email: 'secret-value', page: 0, items: [{ name: 7 }] });
    expect(body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      fields: {
        email: ['email must be an email'],
        page: ['page must not be less than 1'],
        'items.0.name': ['name must be a string'],
      },
    });
    expect(body.message).toEqual(expect.arrayContaining(['email must be an email']));
    expect(JSON.stringify(body)).not.toContain('secret-value');
  });

  it('rejects unknown fields by name', async () => {
    const body = await rejection({ email: 'a@b.co', page: 1, items: [], role: 'admin' });
    expect(body.fields).toEqual({ role: ['property role should not exist'] });
  });

  it('rejects a body that is not an object', async () => {
    const body = await rejection([{ email: 'a@b.co' }]);
    expect(body.statusCode).toBe(400);
  });

  it('rejects text that is not valid Unicode by field, before the validators see it', async () => {
    // validator's isEmail threw on a lone surrogate (a 500).
    const body = await rejection({ email: '\ud800a@b.co', page: 1, items: [{ name: 'x\udc00' }] });
    expect(body.fields).toEqual({
      email: ['email must be valid Unicode text (it contains an unpaired UTF-16 surrogate)'],
      'items.0.name': [
        'items.0.name must be valid Unicode text (it contains an unpaired UTF-16 surrogate)',
      ],
    });
    const param = await new ApiValidationPipe()
      .transform('\ud800', { type: 'param', data: 'id', metatype: String })
      .catch((error: BadRequestException) => error.getResponse() as Record<string, unknown>);
    expect(param).toMatchObject({ fields: { id: [expect.stringContaining('valid Unicode')] } });
  });

  it('rejects a body nested too deeply before class-transformer recurses into it', async () => {
    let items: unknown = [];
    for (let level = 0; level < 5_000; level++) items = [items];
    const body = await rejection({ email: 'a@b.co', page: 1, items });
    expect(body.fields).toEqual({ items: [expect.stringContaining('nested too deeply')] });
  });

  it('leaves values of custom decorators (the current user) alone', async () => {
    const user = { email: '\ud800' };
    await expect(new ApiValidationPipe().transform(user, { type: 'custom' })).resolves.toBe(user);
  });
});

describe('uuidPipe', () => {
  it('passes UUIDs and answers 400 naming the parameter otherwise', async () => {
    const id = '0b6f1f8e-4a7e-4c1e-9c1a-2f3e4d5c6b7a';
    await expect(uuidPipe('id').transform(id, { type: 'param', data: 'id' })).resolves.toBe(id);
    for (const bad of ['1', 'not-a-uuid', `${id}x`, "' OR 1=1 --"]) {
      await expect(
        uuidPipe('connectionId').transform(bad, { type: 'param', data: 'connectionId' }),
      ).rejects.toThrow('connectionId must be a UUID');
    }
  });
});
