// Ask the team's content: the sources first, then the local model's answer as it is written, its citations [n]
// linked to what they cite (the message, task, card or page in its channel, or the file).
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { ApiError } from '../api.ts';
import type { SearchSource } from '../api-types.ts';
import { Link } from '../ui/Link.tsx';
import { aiProblem } from './ai/ai-errors.ts';
import { streamSearch } from './ai/search-stream.ts';
import './ai/ai.css';

/** Where a citation leads: the channel, with the cited item focused (or the file itself). */
export function citationHref(source: SearchSource): string {
  if (source.file_id) return `/channels/${source.channel_id}/files?focus=${source.file_id}`;
  const item = source.item_ids[0];
  return `/channels/${source.channel_id}${item ? `?focus=${item}` : ''}`;
}

const sourceName = (s: SearchSource) => `${s.channel_name}${s.page ? `, page ${s.page}` : ''}`;

/** The answer's text with each `[n]` that names a source turned into a link to it. */
function withCitations(text: string, sources: SearchSource[]): ReactNode[] {
  const byN = new Map(sources.map((s) => [s.n, s]));
  return text.split(/(\[\d+\])/).map((part, i) => {
    const source = byN.get(Number(part.match(/^\[(\d+)\]$/)?.[1]));
    if (!source) return part;
    return (
      <Link key={i} href={citationHref(source)} className="citation" aria-label={`Source ${source.n}: ${sourceName(source)} (${source.source})`}>
        {part}
      </Link>
    );
  });
}

interface Answer {
  query: string;
  sources: SearchSource[] | null;
  text: string;
  state: 'asking' | 'writing' | 'done';
  problem: string | null;
}

export default function SearchView() {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  const ask = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const query = String(new FormData(event.currentTarget).get('query') ?? '').trim();
    if (!query) return;
    running.current?.abort();
    const stop = (running.current = new AbortController());
    setAnswer({ query, sources: null, text: '', state: 'asking', problem: null });
    const change = (patch: (a: Answer) => Partial<Answer>) => !stop.signal.aborted && setAnswer((a) => a && { ...a, ...patch(a) });
    try {
      await streamSearch(query, (e) => {
        if (e.event === 'sources') change(() => ({ sources: e.data, state: e.data.length ? 'writing' : 'done' }));
        else if (e.event === 'token') change((a) => ({ text: a.text + e.data.text }));
        else if (e.event === 'error') change(() => ({ problem: aiProblem(e.data), state: 'done' }));
        else change(() => ({ state: 'done' }));
      }, stop.signal);
      change(() => ({ state: 'done' }));
    } catch (error) {
      if (!stop.signal.aborted) change(() => ({ problem: aiProblem(error as ApiError), state: 'done' }));
    }
  };

  const writing = answer?.state === 'writing';
  return (
    <>
      <h1>Ask &amp; search</h1>
      <form onSubmit={ask} role="search" className="inline">
        <label className="field"><span>Question or words to find</span><input name="query" required maxLength={2000} /></label>
        <button type="submit" disabled={answer?.state === 'asking' || writing}>Ask</button>
      </form>
      {answer?.state === 'asking' && <p aria-busy="true">Searching…</p>}
      {answer && answer.state !== 'asking' && (
        <section aria-label="Answer" aria-busy={writing}>
          {answer.problem && <p className="error" role="alert">{answer.problem}</p>}
          {answer.sources?.length === 0 && !answer.problem && <p className="muted">Nothing you can read matches this question.</p>}
          {(answer.text || writing) && (
            <p className={`answer${writing ? ' writing' : ''}`} data-testid="answer">{withCitations(answer.text, answer.sources ?? [])}</p>
          )}
          {!!answer.sources?.length && (
            <>
              <h2>Sources</h2>
              <ol className="sources" aria-label="Sources">
                {answer.sources.map((s) => (
                  <li key={s.n} value={s.n}>
                    <Link href={citationHref(s)}>{sourceName(s)}</Link> <span className="muted">({s.source})</span>
                    <p className="muted">{s.text.slice(0, 280)}</p>
                  </li>
                ))}
              </ol>
            </>
          )}
          {answer.state === 'done' && <p className="sr-only" role="status">The answer is complete.</p>}
        </section>
      )}
    </>
  );
}
