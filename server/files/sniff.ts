import { isUtf8 } from 'node:buffer';
import { fileTypeFromBuffer } from 'file-type';
import type { fileContentTypes } from '../../schema/index.ts';
import { ApiError, unprocessable } from '../../core/errors.ts';

export type FileContentType = (typeof fileContentTypes)[number];

const unsupported = (message: string) => new ApiError(415, 'unsupported_media_type', message);

/**
 * What a file is, from its bytes: what the client names it or claims it to be is not trusted. Only the choice
 * between Markdown and plain text, which the bytes cannot tell, follows the name.
 */
export async function sniffContentType(bytes: Buffer, filename: string): Promise<FileContentType> {
  if (bytes.length === 0) throw unprocessable('the file is empty');
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  const named = /\.(pdf|md|markdown)$/i.exec(filename)?.[1]?.toLowerCase();
  // NUL is valid UTF-8 but no text file holds it, while most binary formats do.
  if (bytes.includes(0) || !isUtf8(bytes)) {
    const detected = await fileTypeFromBuffer(bytes);
    const what = detected ? `this file looks like ${detected.mime}` : 'this file is neither';
    throw unsupported(`only PDF files, and plain text or Markdown in UTF-8 without NUL bytes, are accepted; ${what}`);
  }
  if (named === 'pdf') throw unsupported(`"${filename}" is named as a PDF but its content is text, not a PDF`);
  return named ? 'text/markdown' : 'text/plain';
}
