import { z } from 'zod';
import { type ApiError, errorCodes, IsoflopError } from './isoflop-error';

export * from './isoflop-error';

export const ApiErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
}) satisfies z.ZodType<ApiError>;

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
