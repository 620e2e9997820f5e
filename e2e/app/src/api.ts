// The REST API as the views use it: the access token added (refreshed once on `token_expired` or `session_revoked`,
// which a refresh answers for this session when it changed the password, and ends it when it was revoked), errors in the
// server's shape turned into ApiError, and GET answers cached for offline use.
import { useCallback, useEffect, useState } from 'react';
import { cacheApiAnswer, cachedApiAnswer } from './offline-data.ts';
import { accessToken } from './session.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

async function send(method: string, path: string, body: unknown, token: string): Promise<Response> {
  const isForm = body instanceof FormData;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined && !isForm) headers['content-type'] = 'application/json';
  return fetch(path, { method, headers, body: body === undefined ? undefined : isForm ? body : JSON.stringify(body) });
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    const token = await accessToken();
    res = await send(method, path, body, token);
    if (res.status === 401) {
      const code = ((await res.clone().json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code;
      if (code === 'token_expired' || code === 'invalid_token' || code === 'session_revoked') {
        res = await send(method, path, body, await accessToken({ refused: token, revoked: code === 'session_revoked' }));
      }
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, 'offline', navigator.onLine ? 'The server cannot be reached.' : 'You are offline.');
  }
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (json as { error?: { code: string; message: string; details?: unknown } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? `HTTP ${res.status}`, error?.details);
  }
  return json as T;
}

const inFlight = new Map<string, Promise<unknown>>();

/** A GET; views asking for the same path at the same moment (the navigation and the channel) share one request. */
export function get<T>(path: string): Promise<T> {
  let request = inFlight.get(path) as Promise<T> | undefined;
  if (!request) {
    request = api<T>('GET', path).finally(() => inFlight.delete(path));
    inFlight.set(path, request);
  }
  return request;
}
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);

const invalidations = new Set<(path: string) => void>();

/** Tells every view showing an answer whose path starts with `prefix` to ask the server again (after a change). */
export function invalidate(prefix: string): void {
  invalidations.forEach((reload) => reload(prefix));
}

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** The data is the copy kept on the device (the server could not be asked). */
  cached: boolean;
  reload: () => void;
}

/** A GET answer for a view: the device's copy at once, then the server's, kept for the next offline visit. */
export function useResource<T>(path: string | null): Resource<T> {
  const [state, setState] = useState<Omit<Resource<T>, 'reload'>>(() => ({
    data: path ? cachedApiAnswer<T>(path) : undefined,
    error: undefined,
    cached: true,
  }));
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState({ data: cachedApiAnswer<T>(path), error: undefined, cached: true });
    get<T>(path).then(
      (data) => {
        cacheApiAnswer(path, data);
        if (live) setState({ data, error: undefined, cached: false });
      },
      (error: ApiError) => live && setState((s) => ({ ...s, error, cached: true })),
    );
    return () => {
      live = false;
    };
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    if (!path) return;
    const onInvalidate = (prefix: string) => path.startsWith(prefix) && reload();
    const onOnline = () => reload();
    invalidations.add(onInvalidate);
    window.addEventListener('online', onOnline);
    return () => {
      invalidations.delete(onInvalidate);
      window.removeEventListener('online', onOnline);
    };
  }, [path, reload]);
  return { ...state, reload };
}
