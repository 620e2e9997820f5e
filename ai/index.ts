export { startAi, type Ai, type AiOptions, type AiHealth } from './service.ts';
export { LlmUnavailable } from './llm.ts';
export { enqueue, type IndexJob } from './queue.ts';
export type { FileText } from './indexer.ts';
export { startBot, BOT_USERNAME } from './bot.ts';
export { answerScope, readableChannels } from './answer-scope.ts';
