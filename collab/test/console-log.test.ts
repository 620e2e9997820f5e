// Hocuspocus prints with console; in our server that output becomes JSON log lines, and no one else's is taken.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as encoding from 'lib0/encoding';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { captureLogs } from '../../server/test/log-capture.ts';
import { connect, type Client } from './clients.ts';

const logs = captureLogs();
let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer({}, undefined, logs.log);
  team = await setUpTeam(server, ['DOC']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

/** A sync "update" frame whose payload is not a Yjs update: Hocuspocus closes the connection and says so. */
function malformedUpdate(documentName: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, documentName);
  encoding.writeVarUint(e, 0); // MessageType.Sync
  encoding.writeVarUint(e, 2); // y-protocols update
  encoding.writeVarUint8Array(e, new Uint8Array([1, 200, 7, 7, 7, 255, 255, 3]));
  return encoding.toUint8Array(e);
}

describe('Hocuspocus console output', () => {
  it('goes to our JSON log, tagged, while other console output stays on the console', async () => {
    const c = await connect(server, team.channels.DOC!, team.member.token);
    open.push(c);
    (c.socket as unknown as { webSocket: WebSocket }).webSocket.send(malformedUpdate(team.channels.DOC!));
    assert.equal(await c.refusal, 'malformed update');
    const routed = () => logs.lines().filter((l) => l.source === 'hocuspocus');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = routed().find((l) => /closing connection .* because of exception/.test(l.msg));
    assert.ok(line, JSON.stringify(routed()));
    assert.equal(line.level, 40, 'at warn');
    assert.equal(line.err?.message, 'malformed update');
    // Printing from anywhere else is not ours to take.
    const before = logs.lines().length;
    console.info('console output from a test file stays on the console');
    assert.equal(logs.lines().length, before);
  });
});
