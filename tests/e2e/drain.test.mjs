// Graceful shutdown: SIGTERM drains (readyz 503, new joins 5003, existing
// rooms run until empty or the drain timeout), then the process exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer } from './harness.mjs';

function open(server) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  const inbox = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    const i = waiters.findIndex((w) => w.match(m));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m); else inbox.push(m);
  });
  const next = (match) => {
    const i = inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  let id = 0;
  const call = (method, params) => {
    const myId = ++id;
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: myId, method, params }));
    return next((m) => m.id === myId);
  };
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  return new Promise((res) => ws.on('open', () => res({ ws, call, next, closed })));
}

const readyz = async (server) => (await fetch(`${server.url}/readyz`)).status;

test('SIGTERM drains: readyz 503, new joins unavailable, the room runs until it empties', async () => {
  const server = await startServer(['--drain-timeout', '30']);
  const a = await open(server);
  assert.ok((await a.call('join', { room: 'drain' })).result);
  assert.equal(await readyz(server), 200);
  const exited = new Promise((r) => server.proc.once('exit', (code) => r(code)));
  server.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await readyz(server), 503);
  const b = await open(server);
  const refused = await b.call('join', { room: 'drain' });
  assert.equal(refused.error.code, 5003);
  assert.equal(refused.error.data.reason, 'unavailable');
  assert.ok((await a.call('getStats', {})).result, 'the existing room still works');
  const t0 = Date.now();
  await a.call('leave', {});
  assert.equal(await exited, 0);
  assert.ok(Date.now() - t0 < 3000, 'exits soon after the last peer leaves');
});

test('the drain timeout closes rooms that do not empty (roomClosed), then exits 0', async () => {
  const server = await startServer(['--drain-timeout', '1']);
  const a = await open(server);
  assert.ok((await a.call('join', { room: 'stuck' })).result);
  const exited = new Promise((r) => server.proc.once('exit', (code) => r(code)));
  server.proc.kill('SIGTERM');
  const closed = await a.next((m) => m.method === 'roomClosed');
  assert.equal(closed.params.reason, 'server_shutdown');
  assert.equal(await exited, 0);
});
