// "Summarize" in a channel's header: the local model's summary of a chat's recent messages, the page, the tasks
// or the board (POST /api/ai/summarize/:channel_id), or plainly why there is none.
import { useState } from 'react';
import { post, type ApiError } from '../../api.ts';
import type { ChannelInfo, ChannelKind, Summary } from '../../api-types.ts';
import { aiProblem } from './ai-errors.ts';
import './ai.css';

const summarizable: ReadonlySet<ChannelKind> = new Set(['TEXT', 'DM', 'DOC', 'TODO', 'KANBAN']);

export function SummarizeAction({ channel }: { channel: ChannelInfo }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!summarizable.has(channel.type)) return null;
  const summarize = async () => {
    setBusy(true);
    setProblem(null);
    try {
      setSummary(await post<Summary>(`/api/ai/summarize/${channel.id}`));
    } catch (error) {
      setSummary(null);
      setProblem(aiProblem(error as ApiError));
    } finally {
      setBusy(false);
    }
  };
  const shown = busy || summary || problem;
  return (
    <>
      <button type="button" className="summarize" onClick={summarize} disabled={busy} aria-controls={`summary-${channel.id}`}>
        {busy ? 'Summarizing…' : 'Summarize'}
      </button>
      {shown && (
        <section id={`summary-${channel.id}`} className="summary" aria-label="Summary" aria-live="polite" aria-busy={busy}>
          <h2>Summary</h2>
          {busy && <p className="muted">The model is reading this channel…</p>}
          {problem && <p className="error" role="alert">{problem}</p>}
          {summary && !busy && <p className="answer">{summary.summary}</p>}
          {!busy && <button type="button" onClick={() => (setSummary(null), setProblem(null))}>Close summary</button>}
        </section>
      )}
    </>
  );
}
