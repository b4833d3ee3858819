// A long-lived Chromium subscriber in front of 200 publishers that come and
// go: the server recycles removed m-sections with new mids (JSEP §5.2.2), so
// the subscriber is never kicked, its description stays bounded, and it
// still decodes the one publisher that stayed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, joinRoom, remoteVideoStats, describe } from './harness.mjs';

let server;
const browsers = [];

before(async () => { server = await startServer(); });
after(async () => {
  for (const b of browsers) await b.close();
  assert.equal(await server.stop(), 0);
});

async function participant(room, name) {
  const b = await launchBrowser();
  browsers.push(b);
  await joinRoom(b.page, server, room, name);
  await b.page.waitForFunction(() => window.sfuDemo && window.sfuDemo.client && window.sfuDemo.client.peerId);
  return b;
}

async function framesOf(page, peer) {
  const s = await remoteVideoStats(page);
  return (s[peer] && s[peer].video && s[peer].video.framesDecoded) || 0;
}

// Runs in the churning page: `total` publishers, `concurrency` at a time,
// each a plain RTCPeerConnection over its own WebSocket (join, publish the
// fake camera and microphone, hold `holdMs`, then leave or just close).
async function churn({ url, room, total, concurrency, holdMs }) {
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 180 } });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function one(i) {
    const ws = new WebSocket(url);
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('ws')); });
    let next = 1;
    const pending = new Map();
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
    };
    const call = (method, params) => new Promise((res, rej) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? rej(new Error(JSON.stringify(m.error))) : res(m.result)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
    await call('join', { room, name: `ghost${i}`, autoSubscribe: false });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const t of media.getTracks()) pc.addTransceiver(t.clone(), { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const r = await call('publish', { sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
    await sleep(holdMs);
    pc.close();
    if (i % 2) await call('leave', {});
    ws.close();
  }
  let started = 0;
  const failures = [];
  async function lane() {
    while (started < total) {
      const i = started++;
      await one(i).catch((e) => failures.push(`${i}: ${e.message}`));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return failures;
}

test('a subscriber stays through 200 publishers coming and going, with a bounded description', async () => {
  const watcher = await participant('churn', 'watcher');
  const stayer = await participant('churn', 'stayer');
  const stayerId = await stayer.page.evaluate(() => window.sfuDemo.client.peerId);
  await watcher.page.waitForFunction(async (id) => {
    const s = window.sfuDemo;
    if (!s.client.subscriber) return false;
    const r = await s.client.subscriber.getStats();
    let frames = 0;
    r.forEach((x) => { if (x.type === 'inbound-rtp' && x.kind === 'video') frames += x.framesDecoded || 0; });
    return frames > 20 && id;
  }, stayerId, { timeout: 30000, polling: 500 });

  await watcher.page.evaluate(() => {
    const c = window.sfuDemo.client;
    window.churnLog = { kicked: [], errors: [], offers: 0, maxSections: 0, maxLive: 0, closed: false };
    c.addEventListener('kicked', (e) => window.churnLog.kicked.push(e.detail.reason));
    c.addEventListener('error', (e) => window.churnLog.errors.push(String(e.detail && e.detail.message)));
    c.addEventListener('subscriberOffer', (e) => {
      const n = (e.detail.sdp.match(/^m=/gm) || []).length;
      window.churnLog.offers += 1;
      window.churnLog.maxSections = Math.max(window.churnLog.maxSections, n);
      window.churnLog.maxLive = Math.max(window.churnLog.maxLive, e.detail.consumers.length);
    });
    c.ws.addEventListener('close', () => { window.churnLog.closed = true; });
  });

  const concurrency = 4;
  const started = Date.now();
  const failures = await stayer.page.evaluate(churn, {
    url: `ws://127.0.0.1:${server.port}/ws`, room: 'churn', total: 200, concurrency, holdMs: 150,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  assert.deepEqual(failures, [], 'every churning publisher joined, published and left');

  // The description settles once the last ghost's removal is negotiated.
  await new Promise((r) => setTimeout(r, 2000));
  const log = await watcher.page.evaluate(() => ({
    ...window.churnLog,
    sections: (window.sfuDemo.client.subscriber.remoteDescription.sdp.match(/^m=/gm) || []).length,
    transceivers: window.sfuDemo.client.subscriber.getTransceivers().length,
  }));
  console.log(`# churn: 200 publishers in ${seconds} s, ${log.offers} offers, at most ${log.maxSections} m-sections ` +
              `for at most ${log.maxLive} live consumers, final ${log.sections} sections, ${log.transceivers} transceivers`);
  assert.deepEqual(log.kicked, [], `never kicked: ${await describe(watcher.page)}`);
  assert.deepEqual(log.errors, [], 'every offer was applied');
  assert.equal(log.closed, false, 'the signaling socket stayed open');
  // The server's bound (peer.hpp): a removed section is reused only once an
  // answer has accepted its removal, so an offer holds the live consumers,
  // those of the previous offer being removed, and those of the one before
  // whose removal awaits the answer: at most 3 x live + the data section.
  // Live consumers: the stayer's 2 and 2 per ghost, of which a lane's leaving
  // one may still be live while its next has joined.
  assert.ok(log.maxSections <= 3 * log.maxLive + 1, `sections ${log.maxSections} for ${log.maxLive} live consumers`);
  assert.ok(log.maxLive <= 2 + 2 * 2 * concurrency, `live consumers ${log.maxLive}`);
  assert.ok(log.offers > 50, `offers were negotiated: ${log.offers}`);

  // Media from the publisher that stayed still decodes.
  const before = await framesOf(watcher.page, stayerId);
  await new Promise((r) => setTimeout(r, 3000));
  const after = await framesOf(watcher.page, stayerId);
  assert.ok(after > before + 20, `still decoding the stayer: ${before} → ${after}: ${await describe(watcher.page)}`);
});
