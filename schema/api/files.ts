import { Timestamp, Uuid, z } from './common.ts';

/** The media types a stored file can have: decided from its content at upload, never from what the client claims. */
export const fileContentTypes = ['application/pdf', 'text/plain', 'text/markdown'] as const;

export const FileInfo = z
  .object({
    id: Uuid,
    channel_id: Uuid,
    filename: z.string(),
    content_type: z.enum(fileContentTypes),
    size_bytes: z.number().int(),
    uploader_id: Uuid.nullable().openapi({ description: 'null once the uploader has been deleted' }),
    created_at: Timestamp,
    page_count: z.number().int().nullable().openapi({ description: 'pages of a PDF; null for text' }),
  })
  .openapi('FileInfo');

export const UploadForm = z
  .object({
    file: z.string().openapi({
      format: 'binary',
      description: 'the one file: PDF, plain text or Markdown (UTF-8), recognised by its content',
    }),
  })
  .openapi('UploadForm');
