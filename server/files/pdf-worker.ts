// Runs in a worker thread (see pdf-text.ts), which is ended once it has posted: reads one PDF's text, page by page.
import { parentPort, workerData } from 'node:worker_threads';
import { getDocumentProxy } from 'unpdf';

export type PdfWorkerResult =
  | { ok: true; pages: string[] }
  | { ok: false; reason: 'encrypted' | 'unreadable'; message: string }
  | { ok: false; reason: 'too_many_pages'; pageCount: number };

const { bytes, maxPages } = workerData as { bytes: Uint8Array; maxPages: number };

async function read(): Promise<PdfWorkerResult> {
  try {
    // verbosity 0: pdf.js would print its warnings about damaged files to our stdout, among the JSON logs.
    const pdf = await getDocumentProxy(bytes, { verbosity: 0 });
    if (pdf.numPages > maxPages) return { ok: false, reason: 'too_many_pages', pageCount: pdf.numPages };
    const pages: string[] = [];
    // One page at a time, each released once read, so memory follows the largest page, not the document.
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const { items } = await page.getTextContent();
      pages.push(items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''));
      page.cleanup();
    }
    return { ok: true, pages };
  } catch (err) {
    const { name, message } = err as Error;
    return { ok: false, reason: name === 'PasswordException' ? 'encrypted' : 'unreadable', message: String(message) };
  }
}

parentPort!.postMessage(await read());
