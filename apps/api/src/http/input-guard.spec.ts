import { BadRequestException } from '@nestjs/common';
import { checkInput, findInputProblem, findInputProblems, MAX_INPUT_DEPTH } from './input-guard';

/** `levels` arrays inside each other, built without recursion: `[[[…]]]`. */
function nestedArrays(levels: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < levels; level++) value = [value];
  return value;
}

/** `{a: {a: … {a: 1}}}`, `levels` objects deep. */
function nestedObjects(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

describe('findInputProblem', () => {
  it('accepts ordinary input, emoji and other astral characters included', () => {
    for (const input of [
      { email: 'a@b.co', items: [{ name: 'x' }, { name: 'y' }] },
      { name: 'Zoë 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文' },
      ['a', 1, null, true, { b: [] }],
      'plain',
      42,
      null,
      undefined,
    ]) {
      expect(findInputProblem(input, 'Request body')).toBeUndefined();
    }
  });

  it(`accepts ${MAX_INPUT_DEPTH} levels and refuses one more, naming the top-level field`, () => {
    expect(findInputProblem(nestedArrays(MAX_INPUT_DEPTH), 'Request body')).toBeUndefined();
    expect(findInputProblem({ email: nestedObjects(MAX_INPUT_DEPTH - 1) }, 'Request body')).toBe(
      undefined,
    );
    expect(findInputProblem(nestedArrays(MAX_INPUT_DEPTH + 1), 'Request body')).toEqual({
      field: '0',
      message: `Request body is nested too deeply under 0: at most ${MAX_INPUT_DEPTH} levels of objects and arrays are accepted`,
    });
    expect(findInputProblem({ email: nestedObjects(MAX_INPUT_DEPTH) }, 'Request body')).toEqual({
      field: 'email',
      message: `Request body is nested too deeply under email: at most ${MAX_INPUT_DEPTH} levels of objects and arrays are accepted`,
    });
  });

  it('walks a very deep input without recursing (no stack overflow)', () => {
    const deep = nestedArrays(200_000);
    expect(findInputProblem(deep, 'Request body')?.message).toContain('nested too deeply');
    // Even with the limit lifted, the walk itself is iterative.
    expect(findInputProblem(deep, 'Request body', '', Infinity)).toBeUndefined();
  });

  it('names the field holding a lone surrogate, nested paths included', () => {
    expect(findInputProblem({ email: '\ud800a@b.co' }, 'Request body')).toEqual({
      field: 'email',
      message: 'email must be valid Unicode text (it contains an unpaired UTF-16 surrogate)',
    });
    expect(
      findInputProblem({ items: [{ name: 'ok' }, { name: 'x\udfff' }] }, 'Request body'),
    ).toMatchObject({ field: 'items.1.name' });
    // A low surrogate before a high one is not a pair.
    expect(findInputProblem({ name: '\udc00\ud800' }, 'Request body')?.field).toBe('name');
  });

  it('names every such field in document order, up to ten', () => {
    const fields = (input: unknown) =>
      findInputProblems(input, 'Request body').map((problem) => problem.field);
    expect(fields({ b: '\ud800', a: ['ok', '\ud800'], c: { d: '\udc00' } })).toEqual([
      'b',
      'a.1',
      'c.d',
    ]);
    expect(fields(Array.from({ length: 50 }, () => '\ud800'))).toHaveLength(10);
  });

  it('names a parameter by its prefix, and the source when there is no name', () => {
    expect(findInputProblem('\ud83d', 'Route parameter', 'id')).toMatchObject({ field: 'id' });
    expect(findInputProblem(['1', '\ud83d'], 'Query string', 'page')).toMatchObject({
      field: 'page.1',
    });
    expect(findInputProblem('\ud83d', 'Request body')).toEqual({
      field: undefined,
      message: 'Request body must be valid Unicode text (it contains an unpaired UTF-16 surrogate)',
    });
  });

  it('refuses a property name that is not valid Unicode, naming where it is', () => {
    expect(findInputProblem({ '\ud800': 1 }, 'Request body')).toEqual({
      field: undefined,
      message:
        'Request body has a property name that is not valid Unicode text (it contains an unpaired UTF-16 surrogate)',
    });
    expect(findInputProblem({ meta: { '\ud800x': 1 } }, 'Request body')?.field).toBe('meta');
  });

  it('does not descend into class instances (only parsed JSON, query and params)', () => {
    class Holder {
      text = '\ud800';
    }
    expect(findInputProblem({ holder: new Holder() }, 'Request body')).toBeUndefined();
  });
});

describe('checkInput', () => {
  it('answers a 400 shaped like the validation pipe’s, never echoing the value', () => {
    const error = checkInput({ email: '\ud800secret@b.co' }, 'Request body');
    expect(error).toBeInstanceOf(BadRequestException);
    const body = error!.getResponse();
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: ['email must be valid Unicode text (it contains an unpaired UTF-16 surrogate)'],
      fields: {
        email: ['email must be valid Unicode text (it contains an unpaired UTF-16 surrogate)'],
      },
    });
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(checkInput({ email: 'a@b.co' }, 'Request body')).toBeUndefined();
  });
});
