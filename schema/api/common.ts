import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';

extendZodWithOpenApi(z);

export { z };

/** A UUID, in lower case whatever case the client sent, so ids compare equal as strings. */
export const Uuid = z
  .uuid()
  .overwrite((s) => s.toLowerCase())
  .openapi({ example: '0b6f3b0e-3c4e-4b8e-9a55-2d1f0c7f6a11' });
export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-24T15:00:00.000Z' });

export const IdParams = z.strictObject({ id: Uuid });
export const ChannelIdParams = z.strictObject({ channel_id: Uuid });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

/** A string without NUL characters, which PostgreSQL cannot store in text. */
export const Text = () => z.string().refine((s) => !s.includes('\0'), 'must not contain NUL characters');

/** Trims, then bounds the length of, a human-entered name. */
export const Name = (max: number) => Text().trim().min(1).max(max);
