import { z } from 'zod';
import { ApiError, validationError } from '../../core/errors.ts';

/** Parses a query or form with a zod schema; a bad one is a 422 (shown as a page by the console's error handler). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/** A path id: anything but a UUID names nothing. */
export function idParam(value: unknown, what: string): string {
  const result = z.uuid().safeParse(value);
  if (!result.success) throw new ApiError(404, 'not_found', `${what} not found`);
  return result.data.toLowerCase();
}

export const pageNumber = z.coerce.number().int().min(1).max(1_000_000).default(1);
export const PAGE_SIZE = 50;

/** Rows of one page fetched with one extra, to know whether a next page exists. */
export function splitPage<T>(rows: T[]): { rows: T[]; hasMore: boolean } {
  return { rows: rows.slice(0, PAGE_SIZE), hasMore: rows.length > PAGE_SIZE };
}
