// Simulcast layer choice from the subscriber side (setPreferredLayers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, joinRoom, remoteVideoStats } from './harness.mjs';

let server;
const browsers = [];
before(async () => { server = await startServer(); });
after(async () => {
  for (const b of browsers) await b.close();
  await server.stop();
});

async function widthOf(page, peer) {
  const s = await remoteVideoStats(page);
  return s[peer] && s[peer].video ? s[peer].video : null;
}

async function waitWidth(page, peer, pred, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let v = null;
  while (Date.now() < deadline) {
    v = await widthOf(page, peer);
    if (v && pred(v.frameWidth)) return { v, ms: timeoutMs - (deadline - Date.now()) };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { v, ms: null };
}

test('spatial layer 0 brings the low layer within 5 s, layer 2 brings the top one back', async () => {
  const pub = await launchBrowser();
  const sub = await launchBrowser();
  browsers.push(pub, sub);
  await joinRoom(pub.page, server, 'layers', 'publisher');
  const pubId = await (await pub.page.waitForFunction(() => window.sfuDemo && window.sfuDemo.client && window.sfuDemo.client.peerId)).jsonValue();
  await joinRoom(sub.page, server, 'layers', 'watcher', { camera: false });
  // The top layer (1280 wide) arrives once the sender's estimate has ramped up.
  const high = await waitWidth(sub.page, pubId, (w) => w >= 1280, 40000);
  assert.ok(high.ms !== null, `never reached the top layer: ${JSON.stringify(high.v)}`);
  const consumerId = high.v.consumerId;
  await sub.page.evaluate((id) => window.sfuDemo.client.setPreferredLayers(id, 0), consumerId);
  const low = await waitWidth(sub.page, pubId, (w) => w > 0 && w <= 320, 5000);
  assert.ok(low.ms !== null, `still ${low.v && low.v.frameWidth} wide 5 s after asking for layer 0`);
  console.log(`# layer 2 -> 0 in ${low.ms} ms`);
  await sub.page.evaluate((id) => window.sfuDemo.client.setPreferredLayers(id, 2), consumerId);
  const back = await waitWidth(sub.page, pubId, (w) => w >= 1280, 15000);
  assert.ok(back.ms !== null, `did not return to the top layer: ${back.v && back.v.frameWidth}`);
  console.log(`# layer 0 -> 2 in ${back.ms} ms`);
});
