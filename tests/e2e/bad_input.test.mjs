// Hostile and malformed signaling input against the real binary: each kind
// gets its error (PROTOCOL.md codes and reasons) while that session and the
// others keep working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { assert.equal(await server.stop(), 0); });

class Client {
  constructor(ws) {
    this.ws = ws;
    this.inbox = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? { binary: true } : JSON.parse(data.toString());
      const w = this.waiters.findIndex((x) => x.match(msg));
      if (w >= 0) this.waiters.splice(w, 1)[0].resolve(msg);
      else this.inbox.push(msg);
    });
    this.closed = new Promise((r) => ws.on('close', (code) => r(code)));
  }
  static async open(query = '') {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { maxPayload: 4 << 20 });
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    return new Client(ws);
  }
  next(match, timeoutMs = 5000) {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no matching message')), timeoutMs);
      this.waiters.push({ match, resolve: (m) => { clearTimeout(t); resolve(m); } });
    });
  }
  raw(text) { this.ws.send(text); }
  async call(method, params, id = Math.floor(Math.random() * 1e9)) {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return this.next((m) => m.id === id);
  }
  close() { this.ws.close(); }
}

const errorOf = (m) => [m.error && m.error.code, m.error && m.error.data && m.error.data.reason];

test('malformed frames each get their error and the session stays usable', async () => {
  const c = await Client.open();
  c.raw('{not json');
  assert.deepEqual(errorOf(await c.next((m) => m.error)), [-32700, 'parse_error']);
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.deepEqual(errorOf(await c.next((m) => m.error)), [-32600, 'binary_frame']);
  c.raw('[{"jsonrpc":"2.0","id":1,"method":"join"}]');
  assert.equal((await c.next((m) => m.error)).error.code, -32600);
  c.raw(JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'relay', params: { pad: 'x'.repeat(70 * 1024) } }));
  const big = await c.next((m) => m.error);
  assert.deepEqual(errorOf(big), [-32600, 'too_large']);
  assert.equal(big.id, 'big', 'id echoed for a rejected frame');
  c.raw(JSON.stringify({ jsonrpc: '1.0', id: 5, method: 'join' }));
  const v = await c.next((m) => m.id === 5);
  assert.equal(v.error.code, -32600);
  assert.deepEqual(errorOf(await c.call('frobnicate', {}, 6)), [-32601, 'method_not_found']);
  // Still usable: a real join works.
  const j = await c.call('join', { room: 'bad-input-1', name: 'x' });
  assert.match(j.result.peerId, /^p_/);
  c.close();
});

test('invalid params and out-of-order calls', async () => {
  const c = await Client.open();
  assert.deepEqual(errorOf(await c.call('publish', { sdp: 'v=0' })), [4009, 'bad_state'], 'publish before join');
  assert.deepEqual(errorOf(await c.call('subscriberAnswer', { sdp: 'v=0' })), [4009, 'bad_state']);
  assert.equal((await c.call('join', {})).error.code, -32602, 'join without a room');
  assert.equal((await c.call('join', { room: 'bad name!' })).error.code, -32602, 'bad room name');
  assert.equal((await c.call('join', { room: 'x'.repeat(129) })).error.code, -32602);
  assert.equal((await c.call('join', { room: 'ok', autoSubscribe: 'yes' })).error.code, -32602, 'mistyped param');
  assert.ok((await c.call('join', { room: 'bad-input-2' })).result);
  assert.deepEqual(errorOf(await c.call('join', { room: 'bad-input-2' })), [4009, 'bad_state'], 'join twice');
  assert.equal((await c.call('publish', {})).error.code, -32602, 'publish without sdp');
  assert.equal((await c.call('publish', { sdp: 42 })).error.code, -32602);
  assert.deepEqual(errorOf(await c.call('publish', { sdp: 'garbage' })), [4100, 'bad_sdp']);
  assert.deepEqual(errorOf(await c.call('publish', { sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' })), [4100, 'bad_sdp']);
  assert.deepEqual(errorOf(await c.call('subscriberAnswer', { sdp: 'v=0' })), [4009, 'bad_state'], 'no offer outstanding');
  assert.deepEqual(errorOf(await c.call('setPreferredLayers', { consumerId: 'c_nope', spatialLayer: 0 })), [4004, 'not_found']);
  assert.equal((await c.call('setPreferredLayers', { consumerId: 'c_nope', spatialLayer: 9 })).error.code, -32602);
  assert.deepEqual(errorOf(await c.call('closeProducer', { producerId: 'pr_nope' })), [4004, 'not_found']);
  assert.deepEqual(errorOf(await c.call('subscribe', { producerIds: ['pr_nope'] })), [4004, 'not_found']);
  assert.equal((await c.call('subscribe', { producerIds: 'pr' })).error.code, -32602);
  const me = (await c.call('getStats', {})).result;
  assert.ok(Array.isArray(me.transports));
  assert.ok((await c.call('trickle', { candidate: 'x', target: 'publisher' })).result, 'trickle accepted and ignored');
  c.close();
});

test('relay rules, and another peer is unaffected by abuse', async () => {
  const a = await Client.open();
  const b = await Client.open('?room=bad-input-3');
  const ja = (await a.call('join', { room: 'bad-input-3', name: 'a' })).result;
  const jb = (await b.call('join', {})).result;  // room from the query string
  assert.equal(jb.room, 'bad-input-3');
  assert.equal((await a.call('relay', { to: ja.peerId, data: 1 })).error.code, -32602, 'relay to yourself');
  assert.deepEqual(errorOf(await a.call('relay', { to: 'p_nobody', data: 1 })), [4004, 'not_found']);
  assert.deepEqual(errorOf(await a.call('relay', { to: jb.peerId, data: 'x'.repeat(17000) })), [-32602, 'too_large']);
  assert.ok((await a.call('relay', { to: jb.peerId, data: { hello: [1, 2] } })).result);
  const got = await b.next((m) => m.method === 'relayed');
  assert.deepEqual(got.params, { from: ja.peerId, data: { hello: [1, 2] } });
  // Flood from a: rate limited, then closed with 1008; b keeps working.
  for (let i = 0; i < 400; i++) a.raw(JSON.stringify({ jsonrpc: '2.0', id: 10000 + i, method: 'getStats', params: {} }));
  const limited = await a.next((m) => m.error && m.error.code === 4029);
  assert.equal(limited.error.data.reason, 'rate_limited');
  assert.equal(await a.closed, 1008, 'sustained abuse closes with 1008');
  const left = await b.next((m) => m.method === 'peerLeft');
  assert.equal(left.params.peerId, ja.peerId);
  assert.ok((await b.call('getStats', {})).result, 'the other peer is served');
  b.close();
});

test('a message over 1 MiB closes the socket with 1009; a notification never gets a reply', async () => {
  const c = await Client.open();
  c.raw(JSON.stringify({ jsonrpc: '2.0', method: 'frobnicate', params: {} }));
  c.raw(JSON.stringify({ jsonrpc: '2.0', method: 'join', params: { room: 'bad name!' } }));
  const pong = await c.call('frobnicate', {}, 'after-notifications');
  assert.equal(pong.id, 'after-notifications');
  assert.equal(c.inbox.length, 0, 'no replies to notifications');
  c.raw('x'.repeat(1024 * 1024 + 10));
  assert.equal(await c.closed, 1009);
});
