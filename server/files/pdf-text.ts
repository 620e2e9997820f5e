import { Worker } from 'node:worker_threads';
import { ApiError } from '../../core/errors.ts';
import type { PdfWorkerResult } from './pdf-worker.ts';

const workerFile = new URL('./pdf-worker.ts', import.meta.url);
// pdf.js on a hostile file can allocate without end: each PDF is read in its own thread with a capped heap,
// and only a few at once, so uploads cannot take the server's memory.
const resourceLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 };
const PARALLEL = 2;
const DEFAULT_TIMEOUT_MS = 30_000;

let running = 0;
const waiting: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  while (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const unreadable = (why: string) => new ApiError(422, 'pdf_unreadable', `the PDF cannot be read: ${why}`);

function runWorker(bytes: Uint8Array, maxPages: number, timeoutMs: number): Promise<PdfWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: { bytes, maxPages }, resourceLimits });
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      finish();
    };
    const timer = setTimeout(
      () => settle(() => reject(unreadable(`reading it took longer than ${timeoutMs / 1000} s`))),
      timeoutMs,
    );
    worker.once('message', (result: PdfWorkerResult) => settle(() => resolve(result)));
    worker.once('error', (err: Error & { code?: string }) =>
      settle(() => reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? unreadable('it needs more memory than allowed') : err)),
    );
    worker.once('exit', (code) => settle(() => reject(new Error(`the PDF reader stopped (exit code ${code})`))));
  });
}

/**
 * The text of each page of a PDF, read off the main thread. A password-protected, damaged or too complex PDF is
 * a 422 (`pdf_encrypted`, `pdf_unreadable`), one with more than `maxPages` pages a 413.
 */
export async function pdfPages(bytes: Uint8Array, maxPages: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
  const result = await inTurn(() => runWorker(bytes, maxPages, timeoutMs));
  if (result.ok) return result.pages;
  switch (result.reason) {
    case 'encrypted':
      throw new ApiError(422, 'pdf_encrypted', 'the PDF is password-protected: upload it without a password');
    case 'too_many_pages':
      throw new ApiError(
        413, 'payload_too_large', `the PDF has ${result.pageCount} pages; at most ${maxPages} are accepted`,
        { page_count: result.pageCount, max_pages: maxPages },
      );
    case 'unreadable':
      throw unreadable(result.message);
  }
}
