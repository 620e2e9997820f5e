import { Ollama } from 'ollama';

export interface LlmOptions {
  host: string;
  model: string;
  /** The context window asked of Ollama (its default is small and silently truncates). */
  numCtx: number;
  /** Told after each answer streamed whole: seconds until its first piece (none: empty answer), and in all. */
  onAnswered?: (firstPieceSeconds: number | undefined, seconds: number) => void;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class LlmUnavailable extends Error {}

export interface Llm {
  readonly model: string;
  readonly numCtx: number;
  /** Streams the answer's pieces as Ollama produces them (always streaming from Ollama). */
  chat(messages: ChatMessage[], signal?: AbortSignal): AsyncGenerator<string>;
  /** The whole answer, still streamed from Ollama. */
  complete(messages: ChatMessage[]): Promise<string>;
  health(): Promise<{ reachable: boolean; model_present: boolean; error?: string }>;
}

/** A rough token count for budgeting prompts: about four characters per token for English. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

export function createLlm(options: LlmOptions): Llm {
  const client = new Ollama({ host: options.host });
  const llm: Llm = {
    model: options.model,
    numCtx: options.numCtx,
    async *chat(messages, signal) {
      const started = performance.now();
      const elapsed = () => (performance.now() - started) / 1000;
      let firstPiece: number | undefined;
      let stream;
      try {
        stream = await client.chat({ model: options.model, messages, stream: true, options: { num_ctx: options.numCtx } });
      } catch (err) {
        throw new LlmUnavailable(`the language model is unavailable: ${(err as Error).message}`);
      }
      const abort = () => stream.abort();
      signal?.addEventListener('abort', abort);
      try {
        for await (const part of stream) {
          if (!part.message?.content) continue;
          firstPiece ??= elapsed();
          yield part.message.content;
        }
        options.onAnswered?.(firstPiece, elapsed());
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    },
    async complete(messages) {
      let text = '';
      for await (const piece of llm.chat(messages)) text += piece;
      return text;
    },
    async health() {
      try {
        const { models } = await client.list();
        const present = models.some((m) => m.name === options.model || m.model === options.model || m.name === `${options.model}:latest`);
        return { reachable: true, model_present: present };
      } catch (err) {
        return { reachable: false, model_present: false, error: (err as Error).message };
      }
    },
  };
  return llm;
}
