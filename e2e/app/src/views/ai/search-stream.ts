// A streamed search (POST /api/ai/search with `stream: true`): Server-Sent Events `sources`, then `token`s as the
// model writes, then `done` or `error` (README "AI assistant"). Each event is handed on as it arrives.
import { ApiError } from '../../api.ts';
import type { SearchSource } from '../../api-types.ts';
import { accessToken } from '../../session.ts';

export type SearchEvent =
  | { event: 'sources'; data: SearchSource[] }
  | { event: 'token'; data: { text: string } }
  | { event: 'done'; data: Record<string, never> }
  | { event: 'error'; data: { code: string; message: string } };

async function open(query: string, signal: AbortSignal, token: string): Promise<Response> {
  return fetch('/api/ai/search', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, stream: true }),
    signal,
  });
}

/** One SSE block (`event: x` and `data: {...}` lines) as an event, or null for a comment or keep-alive. */
function parseBlock(block: string): SearchEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  return data.length ? ({ event, data: JSON.parse(data.join('\n')) } as SearchEvent) : null;
}

/** Runs the search, calling `onEvent` for each event; a refusal before the stream starts throws an ApiError. */
export async function streamSearch(query: string, onEvent: (event: SearchEvent) => void, signal: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await open(query, signal, await accessToken());
    if (res.status === 401) res = await open(query, signal, await accessToken({ force: true }));
  } catch (error) {
    if (signal.aborted) return;
    throw new ApiError(0, 'offline', navigator.onLine ? 'The server cannot be reached.' : 'You are offline.');
  }
  if (!res.ok || !res.body) {
    const error = ((await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? `HTTP ${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event);
    }
  }
}
