// Data channels through the SFU in real browsers (PROTOCOL.md "Data
// channels"): the demo page's chat between three participants, and a 10 MB
// file from one participant to the two others, byte-exact (SHA-256 of what
// arrived, against the hash computed here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, joinRoom, waitFor, describe, SFU_BIN } from './harness.mjs';

let server;
const browsers = [];

before(async () => { server = await startServer(); });
after(async () => {
  for (const b of browsers) await b.close();
  await server.stop();
});

// ana publishes her camera too (data next to media on one connection); ben
// and cy publish data channels only.
async function room(name) {
  const ps = [];
  for (const [who, camera] of [['ana', true], ['ben', false], ['cy', false]]) {
    const b = await launchBrowser();
    browsers.push(b);
    await joinRoom(b.page, server, name, who, { camera });
    ps.push({ who, page: b.page });
  }
  // Every page has both others' chat and file channels open.
  for (const p of ps) {
    try {
      await waitFor(p.page, () => {
        const d = window.sfuDemo.data;
        return d && d.chat && d.chat.readyState === 'open' &&
          d.channels.filter((c) => c.channel.readyState === 'open').length === 4;
      }, null, 30000);
    } catch (e) {
      throw new Error(`${p.who}: channels not open: ${await describe(p.page)} ` +
        `${await p.page.evaluate(() => JSON.stringify(window.sfuDemo.data && window.sfuDemo.data.channels.map((c) => [c.label, c.peerId, c.channel.readyState])))}`);
    }
  }
  return ps;
}

test('chat: a message each way between three participants', async () => {
  const ps = await room('chat3');
  for (const p of ps) {
    await p.page.fill('#chat-input', `hello from ${p.who}`);
    await p.page.click('#chat-send');
  }
  for (const p of ps) {
    const others = ps.filter((o) => o !== p).map((o) => o.who);
    const got = await waitFor(p.page, (names) => {
      const log = window.sfuDemo.data.log.filter((m) => !m.mine);
      return names.every((n) => log.some((m) => m.from === n && m.text === `hello from ${n}`)) && log;
    }, others, 15000);
    assert.equal(got.length, 2, `${p.who} got exactly the two others' messages: ${JSON.stringify(got)}`);
  }
  // Channels arrive with the sender's label and its peerId as protocol.
  const labels = await ps[0].page.evaluate(() => {
    const d = window.sfuDemo.data;
    const peers = new Set(d.client.peers.keys());
    return d.channels.map((c) => [c.label, peers.has(c.peerId), c.channel.ordered]);
  });
  assert.deepEqual(labels.map((l) => l[0]).sort(), ['chat', 'chat', 'file', 'file']);
  assert.ok(labels.every((l) => l[1] && l[2]), JSON.stringify(labels));
});

test('file: 10 MB from one participant to two others, byte-exact', async () => {
  const ps = await room('file3');
  const size = 10 * 1024 * 1024;
  const buffer = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i += 4) {  // xorshift32: not compressible, reproducible
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buffer.writeUInt32LE(x, i);
  }
  const digest = createHash('sha256').update(buffer).digest('hex');
  const t0 = Date.now();
  await ps[0].page.setInputFiles('#file-input', { name: 'random.bin', mimeType: 'application/octet-stream', buffer });
  for (const p of ps.slice(1)) {
    const files = await waitFor(p.page, () => window.sfuDemo.data.files.length > 0 && window.sfuDemo.data.files, null, 120000);
    assert.equal(files.length, 1);
    const f = files[0];
    assert.equal(f.size, size, `${p.who} received ${f.size} bytes`);
    assert.equal(f.sha256, digest, `${p.who}: SHA-256 of what arrived`);
    assert.ok(f.verified);
    assert.equal(f.from, 'ana');
    console.log(`# ${p.who} received 10 MiB in ${(f.ms / 1000).toFixed(2)} s: ` +
      `${(size / 1e6 / (f.ms / 1000)).toFixed(1)} MB/s (${((size * 8) / 1e6 / (f.ms / 1000)).toFixed(0)} Mbit/s)`);
  }
  console.log(`# whole transfer to both, as seen by the test: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  const sent = await ps[0].page.evaluate(() => window.sfuDemo.data.sent);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].sha256, digest, 'the sender hashed the same bytes');
  // The server's view (getStats): the sender's association took every chunk.
  const stats = await ps[0].page.evaluate(() => window.sfuDemo.client.getStats());
  const pub = stats.transports.find((t) => t.direction === 'publisher');
  assert.ok(pub.dataChannels && pub.dataChannels.state === 'connected', JSON.stringify(pub));
  assert.ok(pub.dataChannels.messagesReceived >= size / (16 * 1024) + 2, JSON.stringify(pub.dataChannels));
  assert.ok(pub.dataChannels.bytesReceived >= size, JSON.stringify(pub.dataChannels));
});

test('without the publishData grant a peer cannot publish channels but still receives them', async () => {
  const KEY = 'k1=00112233445566778899aabbccddeeff';
  const auth = await startServer(['--api-key', KEY]);
  const mint = (identity, grants) => execFileSync(SFU_BIN, ['token', '--api-key', KEY, '--room', 'grants',
    '--identity', identity, '--grants', grants]).toString().trim();
  const open = await launchBrowser();
  const muted = await launchBrowser();
  try {
    await joinRoom(open.page, auth, 'grants', 'ana', { camera: false, token: mint('ana', 'publish,subscribe,publishData') });
    await joinRoom(muted.page, auth, 'grants', 'ben', { camera: false, token: mint('ben', 'publish,subscribe') });
    const toast = await waitFor(muted.page, () => {
      const t = document.getElementById('toast');
      return /Chat unavailable/.test(t.textContent) && t.textContent;
    }, null, 20000);
    assert.match(toast, /refused data channels/);
    // ben receives ana's two channels, ana none from ben.
    await waitFor(muted.page, () => window.sfuDemo.data.channels.filter((c) => c.channel.readyState === 'open').length === 2,
      null, 20000);
    await open.page.fill('#chat-input', 'can you read me');
    await open.page.click('#chat-send');
    await waitFor(muted.page, () => window.sfuDemo.data.log.some((m) => m.text === 'can you read me'), null, 10000);
    assert.equal(await open.page.evaluate(() => window.sfuDemo.data.channels.length), 0);
  } finally {
    // Browsers first: a SIGTERM drains for as long as peers stay.
    await open.close();
    await muted.close();
    await auth.stop();
  }
});
