import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { ApiError, badRequest, unprocessable } from '../../core/errors.ts';

export interface Upload {
  filename: string;
  bytes: Buffer;
}

// Boundaries and part headers around the file; a declared length beyond the limit plus this is refused unread.
const FRAMING_BYTES = 64 * 1024;

const tooLarge = (maxBytes: number) =>
  new ApiError(413, 'payload_too_large', `the file is larger than the limit of ${maxBytes} bytes`);

/** A name safe to store and show: no directories, no control characters, bounded. */
function cleanFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // By code points, so a character outside the BMP is never cut in half.
  const clean = [...base.replace(/[\u0000-\u001f\u007f]/g, '').trim()].slice(0, 255).join('');
  return clean || 'upload';
}

/**
 * Reads a multipart/form-data body holding exactly one file, in the field `field`, streaming it and keeping at
 * most `maxBytes` of it. The body is read to its end even after a problem (a client still sending would not see
 * an early answer), then the first problem is thrown and nothing of the body is kept. A declared length far
 * beyond the limit is refused before reading.
 */
export async function readSingleFile(req: Request, field: string, maxBytes: number): Promise<Upload> {
  if (Number(req.headers['content-length']) > maxBytes + FRAMING_BYTES) throw tooLarge(maxBytes);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send file names as raw UTF-8, not in busboy's default latin1.
      defParamCharset: 'utf8',
      // busboy reports reaching its limit, not passing it: one byte more tells a file of exactly maxBytes apart.
      limits: { fileSize: maxBytes + 1, files: 1, fields: 0 },
    });
  } catch (err) {
    throw badRequest(`malformed multipart/form-data: ${(err as Error).message}`);
  }
  let problem: ApiError | undefined;
  const fail = (error: ApiError) => {
    problem ??= error;
  };
  let upload: Upload | undefined;
  const onePart = `send exactly one part: the file, in the form field "${field}"`;
  parser.on('file', (name, stream, info) => {
    // A body cut short fails the parser too, which is what is reported.
    stream.on('error', () => {});
    if (name !== field) {
      fail(unprocessable(`unexpected form field "${name}": ${onePart}`));
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (!problem) chunks.push(chunk);
    });
    stream.on('limit', () => {
      fail(tooLarge(maxBytes));
      chunks.length = 0;
    });
    stream.on('end', () => {
      upload = { filename: cleanFilename(info.filename), bytes: Buffer.concat(chunks) };
    });
  });
  parser.on('filesLimit', () => fail(unprocessable(`more than one file: ${onePart}`)));
  parser.on('fieldsLimit', () => fail(unprocessable(`unexpected form field: ${onePart}`)));
  try {
    await pipeline(req, parser);
  } catch (err) {
    fail(badRequest(`the upload could not be read: ${(err as Error).message}`));
  }
  if (problem) throw problem;
  if (!upload) throw unprocessable(`no file: ${onePart}`);
  return upload;
}
