import { z } from 'zod';

/** What went wrong, in a form every side can switch on. */
export const errorCodes = [
  'BAD_REQUEST', // the payload did not match the channel's schema
  'UNKNOWN_CHANNEL', // no such API call
  'FORBIDDEN', // the request came from somewhere it may not
  'NOT_FOUND', // the named thing does not exist
  'INVALID_INPUT', // a file's content is not what it should be: the message names the file, line or column
  'STORE_UNAVAILABLE', // the data folder cannot be read or written
  'BACKEND_UNAVAILABLE', // no training backend could start here
  'INTERNAL', // a bug: the message says what to report
] as const;

export const ApiErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;
export type ErrorCode = ApiError['code'];

/** The one error type: a code a program can switch on and a message a person can act on. */
export class IsoflopError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'IsoflopError';
    this.code = code;
  }
  toJSON(): ApiError {
    return { code: this.code, message: this.message };
  }
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const ApiResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ApiErrorSchema }),
]);

/** Unwraps a result that crossed a boundary, turning an error answer back into an IsoflopError. */
export function unwrapResult<T>(raw: unknown): T {
  const parsed = ApiResultSchema.safeParse(raw);
  if (!parsed.success) {
    throw new IsoflopError('INTERNAL', 'The API answered with something that is not an API result.');
  }
  if (!parsed.data.ok) throw new IsoflopError(parsed.data.error.code, parsed.data.error.message);
  return parsed.data.value as T;
}
