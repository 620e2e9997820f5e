import { endpoint } from './endpoint.ts';
import { Text, Uuid, z } from './common.ts';

export const SearchRequest = z
  .strictObject({
    query: Text().trim().min(1).max(2000),
    channel_ids: z.array(Uuid).max(200).optional().openapi({ description: 'narrow the search to these channels (never widens it)' }),
    top_k: z.number().int().min(1).max(50).default(8),
    stream: z.boolean().default(false).openapi({ description: 'answer as Server-Sent Events: sources, token…, done' }),
  })
  .openapi('SearchRequest');

export const AiSource = z
  .object({
    n: z.number().int().openapi({ description: 'the marker [n] the answer cites' }),
    channel_id: Uuid,
    channel_name: z.string(),
    channel_type: z.string(),
    source: z.enum(['message', 'task', 'card', 'page', 'file']),
    item_ids: z.array(z.string()).openapi({ description: 'the messages, tasks or cards the text came from' }),
    file_id: Uuid.nullable(),
    page: z.number().int().nullable(),
    text: z.string(),
    score: z.number(),
  })
  .openapi('AiSource');

const AiError = z.object({ code: z.string(), message: z.string() });

export const SearchResponse = z
  .object({
    answer: z.string().nullable(),
    sources: z.array(AiSource),
    error: AiError.optional().openapi({ description: 'why there is no answer (e.g. the language model is down)' }),
  })
  .openapi('SearchResponse');

export const SummaryResponse = z
  .object({ channel_id: Uuid, summary: z.string(), parts: z.number().int() })
  .openapi('Summary');

export const AiHealth = z
  .object({
    status: z.enum(['ok', 'degraded', 'off']),
    ollama: z.object({ reachable: z.boolean(), model: z.string(), model_present: z.boolean(), error: z.string().optional() }),
    chroma: z.object({ reachable: z.boolean(), url: z.string().nullable(), collection: z.string().nullable(), chunks: z.number().int().nullable() }),
    embedder: z.object({ model: z.string(), loaded: z.boolean(), dimension: z.number().nullable(), error: z.string().optional() }),
    queue: z.object({ queued: z.number().int(), running: z.number().int(), failed: z.number().int() }),
  })
  .openapi('AiHealth');

export const aiEndpoints = {
  aiSearch: endpoint({
    method: 'post', path: '/api/ai/search', tag: 'ai', auth: true,
    summary: 'Search what the caller may read, and answer from it with citations', body: SearchRequest,
    status: 200, response: SearchResponse, errors: [503],
  }),
  aiSummarize: endpoint({
    method: 'post', path: '/api/ai/summarize/:channel_id', tag: 'ai', auth: true,
    summary: "A summary of a channel's recent messages or its page", params: z.strictObject({ channel_id: Uuid }),
    status: 200, response: SummaryResponse, errors: [404, 503],
  }),
  aiHealth: endpoint({
    method: 'get', path: '/api/ai/health', tag: 'ai', auth: true,
    summary: 'Ollama, Chroma, the embedder and the indexing queue', status: 200, response: AiHealth,
  }),
};
