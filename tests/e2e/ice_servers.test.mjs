// join's iceServers: configured STUN/TURN URLs with TURN REST credentials
// (coturn use-auth-secret: username "<expiry>:<identity>", credential
// base64(HMAC-SHA1(secret, username))).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { startServer } from './harness.mjs';

async function joinOnce(server) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'join', params: { room: 'ice' } }));
  const reply = await new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  ws.close();
  return reply.result;
}

test('TURN REST credentials are time-limited and verifiable with the shared secret', async () => {
  const server = await startServer(['--ice-server', 'turn:127.0.0.1:3478?transport=udp', '--ice-server', 'stun:127.0.0.1:3478',
    '--turn-secret', 's3cret']);
  try {
    const r = await joinOnce(server);
    assert.equal(r.iceServers.length, 1);
    const s = r.iceServers[0];
    assert.deepEqual(s.urls, ['turn:127.0.0.1:3478?transport=udp', 'stun:127.0.0.1:3478']);
    const [expiry, identity] = s.username.split(':');
    assert.equal(identity, r.peerId);
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 23 * 3600 && ttl <= 24 * 3600 + 5, `ttl ${ttl}`);
    assert.equal(s.credential, createHmac('sha1', 's3cret').update(s.username).digest('base64'));
  } finally {
    await server.stop();
  }
});

test('without configuration iceServers is empty', async () => {
  const server = await startServer();
  try {
    assert.deepEqual((await joinOnce(server)).iceServers, []);
  } finally {
    await server.stop();
  }
});
