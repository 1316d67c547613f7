import { BadRequestException, HttpStatus } from '@nestjs/common';

/**
 * Deepest nesting of objects and arrays accepted in a request body, query or route parameter.
 * No DTO comes near it; anything deeper would only make class-transformer and class-validator
 * recurse until the stack overflows (a 500 from 3 KB of `[[[[…`).
 */
export const MAX_INPUT_DEPTH = 32;

/** Where a value came from, as the messages name it. */
export type InputSource = 'Request body' | 'Query string' | 'Route parameter';

/** What is wrong with an input and under which field (`email`, `items.0.name`), if one. */
export interface InputProblem {
  field?: string;
  message: string;
}

/** Problems named in one answer at most; past that, the rest are left for the next try. */
const MAX_PROBLEMS = 10;

// With the `u` flag a well-formed surrogate pair is one code point outside this range, so only a
// lone (unpaired) surrogate matches: text that is not valid Unicode and that no UTF-8 can carry.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Frame {
  value: unknown;
  /** Objects and arrays from the root down to this value's container. */
  depth: number;
  parent?: Frame;
  key?: string;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** `prefix.key.key…` of a frame, built only when a problem is found. */
function pathOf(frame: Frame | undefined, prefix: string): string | undefined {
  const keys: string[] = [];
  for (let at = frame; at?.key !== undefined; at = at.parent) keys.push(at.key);
  const path = [prefix, ...keys.reverse()].filter((part) => part !== '').join('.');
  return path === '' ? undefined : path;
}

/**
 * The problems of a parsed input that must be answered before any transform or validation:
 * nesting deeper than `maxDepth` (then that one alone), or strings (values or property names)
 * that are not well-formed Unicode, in document order, at most MAX_PROBLEMS. Walks iteratively
 * with its own stack, so no input can make it recurse; each value is visited once. `prefix`
 * names the value itself (a parameter's name), or is '' for a whole object.
 */
export function findInputProblems(
  input: unknown,
  source: InputSource,
  prefix = '',
  maxDepth = MAX_INPUT_DEPTH,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const stack: Frame[] = [{ value: input, depth: 0 }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const frame = stack.pop()!;
    const { value } = frame;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) {
        const field = pathOf(frame, prefix);
        problems.push({
          field,
          message: `${field ?? source} must be valid Unicode text (it contains an unpaired UTF-16 surrogate)`,
        });
      }
      continue;
    }
    if (!isContainer(value)) continue;
    const depth = frame.depth + 1;
    if (depth > maxDepth) {
      const top = pathOf(frame, prefix)?.split('.')[0];
      const where = top === undefined ? '' : ` under ${top}`;
      return [
        {
          field: top,
          message: `${source} is nested too deeply${where}: at most ${maxDepth} levels of objects and arrays are accepted`,
        },
      ];
    }
    const keys = Object.keys(value);
    const badKey = keys.some((key) => LONE_SURROGATE.test(key));
    if (badKey) {
      const field = pathOf(frame, prefix);
      problems.push({
        field,
        message: `${field ?? source} has a property name that is not valid Unicode text (it contains an unpaired UTF-16 surrogate)`,
      });
      continue;
    }
    // Pushed last to first, so they come off the stack in document order.
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index];
      stack.push({ value: (value as Record<string, unknown>)[key], depth, parent: frame, key });
    }
  }
  return problems;
}

/** The first problem of `input` (see findInputProblems), if any. */
export function findInputProblem(
  input: unknown,
  source: InputSource,
  prefix = '',
  maxDepth = MAX_INPUT_DEPTH,
): InputProblem | undefined {
  return findInputProblems(input, source, prefix, maxDepth)[0];
}

/** The 400 for problems, shaped like the validation pipe's: `message` plus `fields`. */
export function inputProblemException(problems: InputProblem[]): BadRequestException {
  const fields: Record<string, string[]> = {};
  for (const { field, message } of problems) {
    if (field !== undefined) (fields[field] ??= []).push(message);
  }
  return new BadRequestException({
    statusCode: HttpStatus.BAD_REQUEST,
    message: problems.map((problem) => problem.message),
    error: 'Bad Request',
    fields,
  });
}

/** The 400 for the problems of `input`, or undefined when there are none. */
export function checkInput(
  input: unknown,
  source: InputSource,
  prefix = '',
): BadRequestException | undefined {
  const problems = findInputProblems(input, source, prefix);
  return problems.length > 0 ? inputProblemException(problems) : undefined;
}
