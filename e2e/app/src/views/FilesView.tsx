// A channel's files: upload (a file field, or drop files on the area), the list newest first with size, pages and
// uploader, download under the file's own name, and a search citation's file highlighted. The server decides what
// a file is from its bytes; what it refuses (415, 413, 422) is shown in its own words, file by file.
import { useEffect, useState, type DragEvent } from 'react';
import { invalidate, useResource, type ApiError } from '../api.ts';
import type { ChannelInfo, FileDetails, GroupInfo } from '../api-types.ts';
import { nameOf, usePeople } from '../people.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { useOnline } from '../ui/StatusBar.tsx';
import { focusItem } from './content-view.ts';
import { downloadFile, uploadFile } from './file-transfer.ts';
import './FilesView.css';

interface Outcome {
  name: string;
  error: ApiError | null;
}

const kinds: Record<FileDetails['content_type'], string> = { 'application/pdf': 'PDF', 'text/plain': 'Text', 'text/markdown': 'Markdown' };

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Whether the caller may upload here: members and above in a group, both people of a DM. */
function useMayUpload(channel: ChannelInfo): boolean {
  const groups = useResource<GroupInfo[]>(channel.group_id ? '/api/groups' : null);
  return groups.data?.find((g) => g.id === channel.group_id)?.role !== 'viewer';
}

export function FilesView({ channel, focus }: { channel: ChannelInfo; focus: string | null }) {
  const listPath = `/api/channels/${channel.id}/files`;
  const files = useResource<FileDetails[]>(listPath);
  const people = usePeople();
  const online = useOnline();
  const mayUpload = useMayUpload(channel);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [uploading, setUploading] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [downloadError, setDownloadError] = useState<ApiError | null>(null);
  useEffect(() => focusItem(focus), [focus, files.data]);

  const upload = async (chosen: File[]) => {
    if (!chosen.length) return;
    setUploading(true);
    const results: Outcome[] = [];
    for (const file of chosen) {
      const error = await uploadFile(channel.id, file).then(() => null, (e: ApiError) => e);
      results.push({ name: file.name, error });
    }
    setOutcomes(results);
    setUploading(false);
    invalidate(listPath);
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (mayUpload && online) void upload([...event.dataTransfer.files]);
  };
  const failed = outcomes.filter((o) => o.error);
  const stored = outcomes.filter((o) => !o.error);

  return (
    <section aria-label="Files" className="files">
      {!online && <p className="files-offline" role="status">You are offline: uploading and downloading files need the network. The list is this device’s last copy.</p>}
      {mayUpload && (
        <div
          className={`files-drop ${dragging ? 'dragging' : ''}`}
          data-testid="drop-zone"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
        >
          <label className="field">
            <span>Upload files (PDF, text or Markdown), or drop them here</span>
            <input
              type="file"
              multiple
              accept=".pdf,.txt,.md,.markdown,application/pdf,text/plain,text/markdown"
              disabled={!online || uploading}
              onChange={(e) => {
                void upload([...(e.target.files ?? [])]);
                e.target.value = '';
              }}
            />
          </label>
          {uploading && <p aria-busy="true">Uploading…</p>}
        </div>
      )}
      {stored.length > 0 && <p role="status" className="files-stored">Uploaded: {stored.map((o) => o.name).join(', ')}</p>}
      {failed.length > 0 && (
        <div role="alert" className="files-refused">
          <p>Not uploaded:</p>
          <ul>
            {failed.map((o, i) => (
              <li key={i} data-testid="refused-file"><strong>{o.name}</strong>: {o.error!.message}</li>
            ))}
          </ul>
        </div>
      )}
      <ErrorLine error={downloadError} />
      {files.error && !files.data && <ErrorLine error={files.error} />}
      {files.data && files.data.length === 0 && <p className="muted">No files yet.</p>}
      <ul className="file-list">
        {files.data?.map((file) => (
          <li key={file.id} id={`item-${file.id}`} tabIndex={-1} data-testid="file">
            <span className="file-name">{file.filename}</span>
            <span className="muted">
              {kinds[file.content_type]} · {size(file.size_bytes)}
              {file.page_count !== null && ` · ${file.page_count} page${file.page_count === 1 ? '' : 's'}`} · {nameOf(people, file.uploader_id)} ·{' '}
              <time dateTime={file.created_at}>{new Date(file.created_at).toLocaleString()}</time>
            </span>
            <button
              type="button"
              aria-label={`Download ${file.filename}`}
              disabled={!online}
              onClick={() => {
                setDownloadError(null);
                downloadFile(file).catch(setDownloadError);
              }}
            >
              Download
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
