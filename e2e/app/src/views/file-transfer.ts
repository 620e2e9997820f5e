// Files over REST: an upload as the one multipart field the server takes, and a download, which needs the
// Authorization header (so no plain link can fetch it), saved under the file's own name through a blob URL.
import { ApiError, post } from '../api.ts';
import type { FileDetails } from '../api-types.ts';
import { accessToken } from '../session.ts';

export function uploadFile(channelId: string, file: File): Promise<FileDetails> {
  const form = new FormData();
  form.append('file', file, file.name);
  return post<FileDetails>(`/api/files/upload/${channelId}`, form);
}

async function fetchFile(id: string, force: boolean): Promise<Response> {
  return fetch(`/api/files/${id}`, { headers: { authorization: `Bearer ${await accessToken({ force })}` } });
}

export async function downloadFile(file: FileDetails): Promise<void> {
  let res: Response;
  try {
    res = await fetchFile(file.id, false);
    if (res.status === 401) res = await fetchFile(file.id, true);
  } catch {
    throw new ApiError(0, 'offline', navigator.onLine ? 'The server cannot be reached.' : 'You are offline: downloads need the network.');
  }
  if (!res.ok) {
    const error = ((await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? `HTTP ${res.status}`);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: file.filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the blob once the click's navigation started; keep it a moment for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
