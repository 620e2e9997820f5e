// The AI's failures in a person's words: the same for a search, a streamed answer and a summary.
/** What a person should read when the AI could not answer: the model is down, AI is off, or another failure. */
export function aiProblem(error: { status?: number; code: string; message: string }): string {
  if (error.code === 'llm_unavailable') return 'The AI model is not reachable right now: try again later.';
  if (error.code === 'llm_failed') return `The AI model failed to answer: ${error.message}`;
  if (error.status === 503 || error.code === 'unavailable') return 'AI is off on this server: an administrator can turn it on (README, "AI assistant").';
  if (error.code === 'offline') return error.message;
  return `The AI could not answer: ${error.message}`;
}
