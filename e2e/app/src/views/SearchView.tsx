// Ask the team's content: an answer from the local model with numbered citations, each opening what it cites.
import { useState, type FormEvent } from 'react';
import { post, type ApiError } from '../api.ts';
import type { SearchAnswer, SearchSource } from '../api-types.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { Link } from '../ui/Link.tsx';

/** Where a citation leads: the channel, with the cited item focused (or the file itself). */
export function citationHref(source: SearchSource): string {
  if (source.file_id) return `/channels/${source.channel_id}/files?focus=${source.file_id}`;
  const item = source.item_ids[0];
  return `/channels/${source.channel_id}${item ? `?focus=${item}` : ''}`;
}

export default function SearchView() {
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const query = String(new FormData(event.currentTarget).get('query') ?? '').trim();
    if (!query) return;
    setBusy(true);
    setError(null);
    try {
      setAnswer(await post<SearchAnswer>('/api/ai/search', { query }));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Ask &amp; search</h1>
      <form onSubmit={ask} role="search" className="inline">
        <label className="field"><span>Question or words to find</span><input name="query" required maxLength={2000} /></label>
        <button type="submit" disabled={busy}>Ask</button>
      </form>
      <ErrorLine error={error} />
      {busy && <p aria-busy="true">Searching…</p>}
      {answer && (
        <section aria-label="Answer" aria-live="polite">
          {answer.answer ? <p className="answer">{answer.answer}</p> : <p className="muted">{answer.error?.message ?? 'No answer from the model; the sources below matched.'}</p>}
          <ol className="sources" aria-label="Sources">
            {answer.sources.map((s) => (
              <li key={s.n} value={s.n}>
                <Link href={citationHref(s)}>{s.channel_name}{s.page ? `, page ${s.page}` : ''}</Link>
                <p className="muted">{s.text.slice(0, 280)}</p>
              </li>
            ))}
          </ol>
        </section>
      )}
    </>
  );
}
