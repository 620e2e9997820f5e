// The AI assistant in the web client: a search whose answer streams in with citations that open what they cite,
// a channel's summary, an @AI question asked through the chat composer and answered in its thread, and what a
// person reads when the model is down or AI is off. The AI stack is the tests' usual one (ai/test/): the real
// embedder on a model folder written here, a real local Chroma, and the Ollama-compatible double.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { aiTestEnv, type AiTestEnv } from '../../ai/test/ai-server.ts';
import { promptText, type RecordedRequest } from '../../ai/test/ollama-double.ts';
import { chat } from '../../collab/index.ts';
import { connect } from '../../collab/test/clients.ts';
import { eventually, setUpTeam, type Team } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, type WebApp } from './harness.ts';

let ai: AiTestEnv;
let app: WebApp;
let team: Team;
const ids = { message: '', task: '', card: '' };

const QUESTION = 'What has to happen before friday?';

/** The marker `[n]` the prompt gave the source whose text holds `phrase`. */
function markerOf(prompt: string, phrase: string): string {
  const block = prompt.split(/\n(?=\[\d+\] \()/).find((b) => b.includes(phrase));
  return block?.match(/^\[\d+\]/)?.[0] ?? '[?]';
}

/** Answers a search with citations of the message, the task and the card; anything else gets a summary. */
function responder(request: RecordedRequest): string {
  const prompt = promptText(request);
  if (!prompt.includes(`Question: ${QUESTION}`)) return 'Summary: the certificates are rotated before the audit, then the release train leaves.';
  return `The release train leaves on friday ${markerOf(prompt, 'release train')}, after the staging certificates are rotated ` +
    `${markerOf(prompt, 'staging certificates')} and the drag latency is benchmarked ${markerOf(prompt, 'drag latency')}.`;
}

async function ask(page: Page, question: string): Promise<void> {
  await page.goto('/search');
  await page.getByLabel('Question or words to find').fill(question);
  await page.getByRole('button', { name: 'Ask' }).click();
}

describe('the AI assistant in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    ai = await aiTestEnv();
    ai.ollama.responder = responder;
    app = await startWebApp(ai.env);
    team = await setUpTeam(app.server, ['TEXT', 'TODO', 'KANBAN']);
    const { server } = app;
    const as = { token: team.member.token };
    const writer = await connect(server, team.channels.TEXT!, team.member.token);
    ids.message = chat.writeMessage(writer.doc, { author_id: team.member.id, text: 'The release train leaves on friday after the database migration' }).id;
    await writer.saved();
    writer.close();
    const task = await server.call('POST', `/api/channels/${team.channels.TODO}/tasks`, { ...as, json: { content: 'Rotate the staging certificates before the audit' } });
    ids.task = task.body.id;
    const column = await server.call('POST', `/api/channels/${team.channels.KANBAN}/kanban/columns`, { ...as, json: { title: 'Doing' } });
    const card = await server.call('POST', `/api/kanban/columns/${column.body.id}/cards`, { ...as, json: { content: 'Benchmark the kanban drag latency' } });
    ids.card = card.body.id;
    // Everything is indexed before the browser asks.
    await eventually(async () => {
      await server.ai.drain();
      const res = await server.call('POST', '/api/ai/search', { ...as, json: { query: QUESTION } });
      assert.deepEqual(new Set(res.body.sources.map((s: { source: string }) => s.source)), new Set(['message', 'task', 'card']));
    }, 30_000);
  });
  after(async () => {
    await app?.close();
    await ai?.close();
  });

  it('a search streams its answer in, and each citation opens the message, task or card it cites', { timeout: 90_000 }, async () => {
    const p = await app.open(team.member);
    ai.ollama.pieceDelayMs = 120;
    await ask(p.page, QUESTION);
    // The sources come first, then the answer grows while the model writes it.
    const answer = p.page.getByTestId('answer');
    await p.page.getByRole('list', { name: 'Sources' }).waitFor();
    await p.page.locator('[data-testid="answer"].writing').filter({ hasText: 'The release train' }).waitFor();
    const partial = await answer.innerText();
    await p.screenshot('ai-search-streaming');
    await p.page.getByRole('status').filter({ hasText: 'The answer is complete.' }).waitFor({ timeout: 20_000 });
    const whole = await answer.innerText();
    assert.ok(whole.startsWith(partial.replace(/▍$/, '')) && whole.length > partial.length, `"${partial}" grew into "${whole}"`);
    assert.match(whole, /^The release train leaves on friday \[\d+\], after the staging certificates are rotated \[\d+\] and the drag latency is benchmarked \[\d+\]\.$/);
    await p.screenshot('ai-search');

    assert.equal(await answer.getByRole('link').count(), 3);
    ai.ollama.pieceDelayMs = 5;
    const expected = [
      [team.channels.TEXT, ids.message, 'message'],
      [team.channels.TODO, ids.task, 'task'],
      [team.channels.KANBAN, ids.card, 'card'],
    ] as const;
    for (const [i, [channel, item, kind]] of expected.entries()) {
      if (i > 0) {
        await ask(p.page, QUESTION);
        await p.page.getByRole('status').filter({ hasText: 'The answer is complete.' }).waitFor({ timeout: 20_000 });
      }
      const link = answer.getByRole('link').nth(i);
      assert.match(await link.getAttribute('aria-label') ?? '', new RegExp(`^Source \\d+: .*\\(${kind}\\)$`));
      await link.click();
      await p.page.waitForURL((url) => url.pathname === `/channels/${channel}` && url.searchParams.get('focus') === item);
      // The cited item is shown and marked as the one the citation meant.
      await p.page.locator(`#item-${item}.focused`).waitFor({ timeout: 15_000 });
      await p.screenshot(`ai-citation-${kind}`);
    }
    assert.deepEqual(p.errors, []);
    await p.close();
  });

  it('Summarize shows a channel\'s summary; with the model down it says so, for a search too', { timeout: 60_000 }, async () => {
    const p = await app.open(team.member, `/channels/${team.channels.TODO}`);
    await p.page.getByRole('button', { name: 'Summarize' }).click();
    const summary = p.page.getByRole('region', { name: 'Summary' });
    await summary.getByText('Summary: the certificates are rotated before the audit').waitFor();
    const asked = ai.ollama.requests.filter((r) => promptText(r).includes('Rotate the staging certificates'));
    assert.ok(asked.length > 0, 'the model was given the tasks');
    await p.screenshot('ai-summary');

    await ai.ollama.setDown(true);
    try {
      await summary.getByRole('button', { name: 'Close summary' }).click();
      await p.page.getByRole('button', { name: 'Summarize' }).click();
      await summary.getByRole('alert').filter({ hasText: 'The AI model is not reachable right now' }).waitFor();
      assert.equal(await summary.getByText('Summary: the certificates').count(), 0);
      await p.screenshot('ai-summary-model-down');
      // A search still lists its sources, and says why there is no answer.
      await ask(p.page, QUESTION);
      await p.page.getByRole('alert').filter({ hasText: 'The AI model is not reachable right now' }).waitFor();
      assert.ok(await p.page.getByRole('list', { name: 'Sources' }).getByRole('listitem').count() >= 3);
      await p.screenshot('ai-search-model-down');
    } finally {
      await ai.ollama.setDown(false);
    }
    await p.close();
  });

  it('an @AI question posted through the chat composer gets its answer in the thread', { timeout: 60_000 }, async () => {
    const p = await app.open(team.member, `/channels/${team.channels.TEXT}`);
    ai.ollama.pieceDelayMs = 5;
    const question = `@AI ${QUESTION}`;
    await p.page.getByLabel('Message', { exact: true }).fill(question);
    await p.page.getByLabel('Message', { exact: true }).press('Enter');
    const asked = p.page.getByTestId('message').filter({ hasText: question });
    await asked.getByRole('button', { name: '1 reply' }).click({ timeout: 30_000 });
    const thread = p.page.getByRole('complementary', { name: 'Thread' });
    await thread.getByText(/^The release train leaves on friday/).waitFor();
    // Named as the server names the assistant's account (display name "AI"), not as the document says.
    await thread.getByTestId('message').filter({ hasText: /^AI/ }).first().waitFor();
    await p.screenshot('ai-thread');
    // What the server stored: the reply in the question's thread, by the assistant.
    const res = await app.server.call('GET', `/api/channels/${team.channels.TEXT}/messages`, { token: team.member.token });
    const stored = res.body.messages as { id: string; text: string; parent_id?: string; author_id: string }[];
    const asking = stored.find((m) => m.text === question)!;
    const reply = stored.find((m) => m.parent_id === asking.id);
    assert.match(reply?.text ?? '', /^The release train leaves on friday/);
    assert.notEqual(reply?.author_id, team.member.id);
    await p.close();
  });
});

describe('AI off in the web client', { skip: skipWithoutChromium() }, () => {
  let off: WebApp;
  before(async () => {
    off = await startWebApp();
  });
  after(async () => {
    await off?.close();
  });

  it('a search and a summary say that AI is off', async () => {
    const offTeam = await setUpTeam(off.server, ['TODO']);
    const p = await off.open(offTeam.member, `/channels/${offTeam.channels.TODO}`);
    await p.page.getByRole('button', { name: 'Summarize' }).click();
    await p.page.getByRole('alert').filter({ hasText: 'AI is off on this server' }).waitFor();
    await p.screenshot('ai-off-summary');
    await ask(p.page, 'anything');
    await p.page.getByRole('alert').filter({ hasText: 'AI is off on this server' }).waitFor();
    assert.equal(await p.page.getByRole('list', { name: 'Sources' }).count(), 0);
  });
});
