// Task, column and card ids in REST paths (and a move's column_id) are UUIDs: anything else is a 422 before any
// lookup, whatever a client may have written into a document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, setUpTeam, startTestServer, type Response, type Team, type TestServer } from './harness.ts';

let server: TestServer;
let team: Team;
before(async () => {
  server = await startTestServer();
  team = await setUpTeam(server, ['TODO', 'KANBAN']);
});
after(() => server.close());

const traversal = '..%2F..%2Fetc';

function assertInvalidId(res: Response, path: string): void {
  assert.equal(res.status, 422);
  assert.equal(errorCode(res), 'validation_failed');
  assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), JSON.stringify(res.body));
}

describe('item ids over REST', () => {
  it('a task id that is not a UUID is a 422; a real one (in any case) is changed', async () => {
    const created = await server.call('POST', `/api/channels/${team.channels.TODO}/tasks`, {
      token: team.member.token, json: { content: 'keep me' },
    });
    assert.equal(created.status, 201);
    for (const id of [traversal, 'not-a-uuid', `${created.body.id}x`]) {
      const put = await server.call('PUT', `/api/tasks/${id}`, { token: team.member.token, json: { content: 'x' } });
      assertInvalidId(put, 'params.id');
      assertInvalidId(await server.call('DELETE', `/api/tasks/${id}`, { token: team.member.token }), 'params.id');
    }
    const ok = await server.call('PUT', `/api/tasks/${created.body.id.toUpperCase()}`, {
      token: team.member.token, json: { content: 'changed' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.id, created.body.id);
    assert.equal(ok.body.content, 'changed');
  });

  it('column and card ids, and a move target, that are not UUIDs are 422s; real ones work', async () => {
    const token = team.member.token;
    const column = await server.call('POST', `/api/channels/${team.channels.KANBAN}/kanban/columns`, {
      token, json: { title: 'To do' },
    });
    assertInvalidId(
      await server.call('POST', `/api/kanban/columns/${traversal}/cards`, { token, json: { content: 'x' } }),
      'params.id',
    );
    const card = await server.call('POST', `/api/kanban/columns/${column.body.id}/cards`, {
      token, json: { content: 'a' },
    });
    assert.equal(card.status, 201);
    assertInvalidId(
      await server.call('PUT', `/api/kanban/cards/${traversal}`, { token, json: { content: 'b' } }),
      'params.id',
    );
    assertInvalidId(
      await server.call('PUT', `/api/kanban/cards/${traversal}/move`, {
        token, json: { column_id: column.body.id, new_order: 0 },
      }),
      'params.id',
    );
    assertInvalidId(
      await server.call('PUT', `/api/kanban/cards/${card.body.id}/move`, {
        token, json: { column_id: '../../etc', new_order: 0 },
      }),
      'body.column_id',
    );
    const moved = await server.call('PUT', `/api/kanban/cards/${card.body.id}/move`, {
      token, json: { column_id: column.body.id, new_order: 0 },
    });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.column_id, column.body.id);
  });
});
