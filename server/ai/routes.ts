import type { Response, Router } from 'express';
import { LlmUnavailable, readableChannels, type Ai } from '../../ai/index.ts';
import { aiEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { requireChannelRole } from '../../core/access/access.ts';

function ready(ai: Ai) {
  if (!ai.assistant) throw new ApiError(503, 'unavailable', ai.unavailable ?? 'AI is off on this server');
  return ai.assistant;
}

/** Server-Sent Events: `event: <name>` with JSON data. */
function openEvents(res: Response) {
  res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  return (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const llmError = (err: unknown) => ({
  code: err instanceof LlmUnavailable ? 'llm_unavailable' : 'llm_failed',
  message: (err as Error).message,
});

export function mountAiRoutes(router: Router, app: AppContext): void {
  const { ai, db } = app;
  const route = mounter(router, app);

  route(api.aiSearch, async ({ body, user, req, res }) => {
    const assistant = ready(ai);
    // The answer goes to the caller alone: it may draw from everything the caller may read now.
    const sources = await assistant.search(await readableChannels(db, user.id), body.query, body.channel_ids, body.top_k);
    // With nothing readable there is nothing to answer from: the model is not asked.
    const messages = sources.length ? assistant.answerPrompt(body.query, sources) : undefined;
    if (!body.stream && !req.get('accept')?.includes('text/event-stream')) {
      if (!messages) return { answer: null, sources };
      try {
        return { answer: await ai.llm.complete(messages), sources };
      } catch (err) {
        return { answer: null, sources, error: llmError(err) };
      }
    }
    const send = openEvents(res);
    send('sources', sources);
    const stop = new AbortController();
    req.on('close', () => stop.abort());
    try {
      if (messages) for await (const token of ai.llm.chat(messages, stop.signal)) send('token', { text: token });
      send('done', {});
    } catch (err) {
      if (!stop.signal.aborted) send('error', llmError(err));
    }
    res.end();
    return undefined;
  });

  route(api.aiSummarize, async ({ params, user }) => {
    const assistant = ready(ai);
    const { channel } = await requireChannelRole(db, params.channel_id, user.id, 'viewer');
    if (channel.type === 'VOICE') throw new ApiError(404, 'not_found', 'voice channels have nothing to summarize');
    const texts = await assistant.channelText(channel);
    const recent = channel.type === 'TEXT' || channel.type === 'DM' ? texts.slice(-100) : texts;
    if (!recent.length) return { channel_id: params.channel_id, summary: 'There is nothing here yet.', parts: 0 };
    try {
      const { summary, parts } = await assistant.summarize(recent, `this ${channel.type === 'DOC' ? 'page' : 'channel'}`);
      return { channel_id: params.channel_id, summary, parts };
    } catch (err) {
      const { code, message } = llmError(err);
      throw new ApiError(503, code, message);
    }
  });

  route(api.aiHealth, async () => ai.health());
}
