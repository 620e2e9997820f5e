// A real editing history (../shared/traces/automerge-paper.json.gz, CC BY 4.0, from Joseph Gentle's
// editing-traces) replayed through the server by a real provider ends equal to the trace, live and after a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, refusalsOf, waitFor, writeParagraph, type Client } from './clients.ts';
import { loadTrace, replay } from './traces.ts';

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer();
  team = await setUpTeam(server, ['DOC']);
});
// Clients left open by a failed assertion would keep reconnecting, and the test process would never end.
after(async () => {
  for (const client of open) client.close();
  await server.close();
});

describe('editing trace', () => {
  it('automerge-paper replayed through the server ends equal to the trace, live and after a restart', async () => {
    const trace = loadTrace('automerge-paper.json.gz');
    const name = team.channels.DOC!;
    const watcher = await connect(server, name, team.member.token);
    const writer = await connect(server, name, team.owner.token);
    open.push(watcher, writer);
    // The provider batches what the typist does within 20 ms into one message, as a real client would.
    writer.provider.configuration.flushDelay = 20;
    const notices = refusalsOf(writer);
    // Typed into one paragraph of the page, as an editor holds it.
    await replay(trace, writeParagraph(writer.doc, ''));
    // Thousands of batched updates, each acknowledged once stored: allow for a loaded machine.
    await writer.saved(60_000);
    assert.equal(pageText(writer.doc), trace.endContent);
    assert.deepEqual(notices, [], 'nothing refused');
    // Relayed at once, but a loaded machine may take a moment to apply 260,000 edits on the watcher's side.
    await waitFor(() => pageText(watcher.doc) === trace.endContent, 'another client has it live', 20_000);
    writer.close();
    watcher.close();
    server = await server.restart();
    const reader = await connect(server, name, team.member.token);
    open.push(reader);
    assert.equal(pageText(reader.doc), trace.endContent, 'and it is stored');
    reader.close();
  });
});
