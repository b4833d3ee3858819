// Browser calls through the real server: decoded video and received audio.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, joinRoom, remoteVideoStats } from './harness.mjs';

let server;
const browsers = [];

before(async () => { server = await startServer(); });
after(async () => {
  for (const b of browsers) await b.close();
  const code = await server.stop();
  assert.equal(code, 0, 'sfu exits cleanly on SIGTERM');
});

async function participant(room, name) {
  const b = await launchBrowser();
  browsers.push(b);
  await joinRoom(b.page, server, room, name);
  return b;
}

test('three participants each decode 60+ frames of both others and receive their audio', async () => {
  const room = 'three';
  const ps = [await participant(room, 'ana'), await participant(room, 'ben'), await participant(room, 'cy')];
  const ids = await Promise.all(ps.map((p) => p.page.waitForFunction(() => window.sfuDemo && window.sfuDemo.client && window.sfuDemo.client.peerId).then((h) => h.jsonValue())));
  const deadline = Date.now() + 45000;
  let last;
  while (Date.now() < deadline) {
    last = await Promise.all(ps.map((p) => remoteVideoStats(p.page)));
    const ok = last.every((stats, i) => ids.filter((_, j) => j !== i).every((peer) =>
      stats[peer] && stats[peer].video && stats[peer].video.framesDecoded >= 60 &&
      stats[peer].audio && stats[peer].audio.packets > 50));
    if (ok) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (let i = 0; i < ps.length; i++) {
    for (const peer of ids.filter((_, j) => j !== i)) {
      const s = last[i][peer];
      assert.ok(s && s.video && s.video.framesDecoded >= 60, `participant ${i} decoded ${JSON.stringify(s)} of ${peer}`);
      assert.ok(s.audio && s.audio.packets > 50, `participant ${i} got audio ${JSON.stringify(s && s.audio)} of ${peer}`);
    }
  }
  // The server's view of each subscriber's estimate (getStats "bwe"):
  // Chromium sends transport-cc, so the parts are there and the estimate is
  // their minimum.
  for (const p of ps) {
    const st = await p.page.evaluate(() => window.sfuDemo.client.getStats());
    const sub = st.transports.find((t) => t.direction === 'subscriber');
    assert.ok(sub && sub.bwe, `subscriber transport without bwe: ${JSON.stringify(sub)}`);
    assert.ok(sub.bwe.delayBased > 0 && sub.bwe.lossBased > 0 && sub.bwe.acked > 0, JSON.stringify(sub.bwe));
    assert.ok(['normal', 'overusing', 'underusing'].includes(sub.bwe.usage), JSON.stringify(sub.bwe));
    assert.equal(sub.availableOutgoingBitrate, Math.min(sub.bwe.delayBased, sub.bwe.lossBased), JSON.stringify(sub));
    console.log(`# subscriber estimate ${sub.availableOutgoingBitrate} bit/s: ${JSON.stringify(sub.bwe)}`);
  }
});
