// Leaving, reloading and refused tokens, through the demo page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, joinRoom, remoteVideoStats, describe, SFU_BIN } from './harness.mjs';

let server;
let authServer;
const browsers = [];
const KEY = 'k1=0123456789abcdef0123456789abcdef';

before(async () => {
  server = await startServer();
  authServer = await startServer(['--api-key', KEY]);
});
after(async () => {
  for (const b of browsers) await b.close();
  await server.stop();
  await authServer.stop();
});

async function participant(srv, room, name, opts) {
  const b = await launchBrowser();
  browsers.push(b);
  await joinRoom(b.page, srv, room, name, opts);
  return b;
}
const peerIdOf = async (p) => (await p.page.waitForFunction(() => window.sfuDemo && window.sfuDemo.client && window.sfuDemo.client.peerId)).jsonValue();

async function decodes(page, peer, frames = 30, timeoutMs = 45000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await remoteVideoStats(page);
    if (s[peer] && s[peer].video && s[peer].video.framesDecoded >= frames) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

test('a participant that leaves produces peerLeft and ended tracks at the others', async () => {
  const a = await participant(server, 'leave', 'ana');
  const b = await participant(server, 'leave', 'ben');
  const bId = await peerIdOf(b);
  assert.ok(await decodes(a.page, bId), `ana sees ben before he leaves: ${await describe(a.page)}`);
  await a.page.evaluate(() => {
    window.leftEvents = [];
    window.bTracks = [...window.sfuDemo.consumers.values()].map((c) => c.track);
    window.sfuDemo.client.addEventListener('peerLeft', (e) => window.leftEvents.push(e.detail.peerId));
  });
  await b.page.click('#leave-btn');
  // The server's next offer rejects ben's m-lines (port 0): his tracks end.
  const got = await (await a.page.waitForFunction((id) => {
    const ended = window.bTracks.filter((t) => t.readyState === 'ended').length;
    return window.leftEvents.includes(id) && ended >= 2 && { left: window.leftEvents, ended };
  }, bId, { timeout: 15000 })).jsonValue();
  assert.deepEqual(got.left, [bId]);
  assert.ok(got.ended >= 2, 'audio and video tracks ended');
});

test('a reloaded page rejoins and media flows again', async () => {
  const a = await participant(server, 'reload', 'ana');
  const b = await participant(server, 'reload', 'ben');
  const bId = await peerIdOf(b);
  assert.ok(await decodes(a.page, bId), `before the reload: ${await describe(a.page)}`);
  await b.page.reload();
  const bId2 = await peerIdOf(b);
  assert.notEqual(bId2, bId, 'a new session');
  const aId = await peerIdOf(a);
  assert.ok(await decodes(a.page, bId2), `ana decodes ben again after his reload: ${await describe(a.page)}`);
  const ok = await decodes(b.page, aId);
  if (!ok) console.log('# ben sees', JSON.stringify(await remoteVideoStats(b.page)), await b.page.evaluate(() => JSON.stringify({ sub: window.sfuDemo.client.subscriber && window.sfuDemo.client.subscriber.connectionState, cons: [...window.sfuDemo.client.consumers.values()], toast: document.getElementById('toast').textContent })));
  assert.ok(ok, 'ben decodes ana after his reload');
});

function mint(args) {
  return execFileSync(SFU_BIN, ['token', '--api-key', KEY, ...args]).toString().trim();
}

test('with auth on, a wrong or expired token is refused with 4001 and a valid one joins', async () => {
  const attempts = {
    missing: undefined,
    garbage: 'not.a.token',
    wrongKey: execFileSync(SFU_BIN, ['token', '--api-key', 'k1=ffffffffffffffffffffffffffffffff', '--room', 'secure', '--identity', 'x']).toString().trim(),
    expired: mint(['--room', 'secure', '--identity', 'x', '--ttl', '-120']),
    otherRoom: mint(['--room', 'elsewhere', '--identity', 'x']),
  };
  for (const [what, token] of Object.entries(attempts)) {
    const b = await participant(authServer, 'secure', what, { camera: false, token });
    const text = await (await b.page.waitForFunction(() => {
      const e = document.getElementById('lobby-error');
      return !e.hidden && e.textContent;
    }, null, { timeout: 10000 })).jsonValue();
    assert.match(text, /token was refused/, `${what}: ${text}`);
    const code = await b.page.evaluate(async () => {
      try { await window.sfuDemo.client.request('join', { room: 'secure' }); } catch (e) { return e.code; }
      return 0;
    }).catch(() => 4001);
    assert.equal(code, 4001, what);
  }
  const ok = await participant(authServer, 'secure', 'valid', { camera: false, token: mint(['--room', 'secure', '--identity', 'v']) });
  const peer = await peerIdOf(ok);
  assert.match(peer, /^p_/);
});
