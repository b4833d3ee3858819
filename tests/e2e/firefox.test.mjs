// Firefox ESR next to Chromium through the real server (puppeteer-core over
// WebDriver BiDi, shared/BROWSER-TESTING.md): media both ways with the demo
// page's simulcast, layer switching, data channels, a three-party call, and
// Firefox as a subscriber through removals, re-offers and a late answer.
// Browsers are launched once and reused: each test joins its own room, and
// every page used leaves (about:blank) after it.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  startServer, launchBrowser, launchFirefox, joinRoom, waitFor, remoteVideoStats, describe,
} from './harness.mjs';

const skip = !existsSync(process.env.FIREFOX_BIN || '/usr/bin/firefox-esr') && 'firefox-esr is not installed';
// Three browsers beside an ASan server on a 2-core machine starve the
// subscriber's bandwidth estimate (76 kbit/s seen). Since the allocator
// keeps the first video's base layer (server/bwe/allocator.hpp, rule 4) one
// video always flows, but the second may wait long for its probe on so busy
// a receiver: this one runs against the plain build only (deploy/test.sh
// exports ASAN_OPTIONS for the sanitizer phase).
const heavySkip = skip || (process.env.ASAN_OPTIONS !== undefined && 'too heavy beside an ASan server; the plain build runs it');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
const pool = new Map();  // 'firefox0', 'chromium1', ... -> {page, close}
const used = new Set();

before(async () => { if (!skip) server = await startServer(); });
afterEach(async () => {
  for (const b of used) await b.page.goto('about:blank').catch(() => {});
  used.clear();
});
after(async () => {
  for (const b of pool.values()) await b.close();
  if (server) assert.equal(await server.stop(), 0, 'sfu exits cleanly on SIGTERM');
});

// Runs in every page before its own scripts: records each description given
// to setRemoteDescription and how that ended (Firefox's remoteDescription is
// its own re-serialisation, not what the server sent).
function recordRemoteDescriptions() {
  const set = RTCPeerConnection.prototype.setRemoteDescription;
  window.remoteDescriptions = [];
  RTCPeerConnection.prototype.setRemoteDescription = async function (desc) {
    const entry = { type: desc.type, mLines: desc.sdp.match(/^m=.*$/gm), error: null };
    window.remoteDescriptions.push(entry);
    try {
      return await set.call(this, desc);
    } catch (e) {
      entry.error = `${e.name}: ${e.message}`;
      throw e;
    }
  };
}

// The i-th browser of a kind, launched on first use.
async function browser(kind, i) {
  const key = `${kind}${i}`;
  if (!pool.has(key)) {
    const b = kind === 'firefox' ? await launchFirefox() : await launchBrowser();
    await b.page.addInitScript(recordRemoteDescriptions);
    pool.set(key, b);
  }
  const b = pool.get(key);
  used.add(b);
  return b;
}

// Joins `room` as `name` in the i-th browser of `kind`; resolves with
// {kind, name, page, peerId}.
async function participant(kind, i, room, name, opts = {}) {
  const { page } = await browser(kind, i);
  await joinRoom(page, server, room, name, opts);
  const peerId = await waitFor(page, () => window.sfuDemo && window.sfuDemo.client && window.sfuDemo.client.peerId, null, 30000);
  return { kind, name, page, peerId };
}

// Waits until the page published its camera and microphone, the camera with
// the demo's three simulcast layers.
async function published(p) {
  const state = () => p.page.evaluate(() => ({
    producers: [...window.sfuDemo.client.myProducers.values()].map((x) => ({ kind: x.kind, simulcast: x.simulcast })),
    answers: window.remoteDescriptions.filter((d) => d.type === 'answer'),
    toast: document.getElementById('toast').textContent,
  }));
  const s = (await until(state, (x) => x.producers.length >= 2, 15000)).last;
  const video = s.producers.find((x) => x.kind === 'video');
  assert.ok(video && s.producers.some((x) => x.kind === 'audio'),
    `${p.kind} ${p.name} did not publish camera and microphone: ${JSON.stringify(s)}`);
  assert.deepEqual(video.simulcast, ['q', 'h', 'f'], `${p.kind} ${p.name} camera simulcast`);
}

// Polls `probe` until `ok(value)`; resolves with {last, ms} (ms null on timeout).
async function until(probe, ok, timeoutMs, everyMs = 500) {
  const t0 = Date.now();
  for (;;) {
    const last = await probe();
    if (ok(last)) return { last, ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) return { last, ms: null };
    await sleep(everyMs);
  }
}

async function videoOf(page, peerId) {
  const s = await remoteVideoStats(page);
  return (s[peerId] && s[peerId].video) || null;
}

// Remote video decode state per tile key (`<peerId>:camera|screen`).
async function tiles(page) {
  return page.evaluate(async () => {
    const s = window.sfuDemo;
    const out = {};
    if (!s.client || !s.client.subscriber) return out;
    const byTrack = new Map();
    (await s.client.subscriber.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') byTrack.set(r.trackIdentifier, r);
    });
    for (const [consumerId, c] of s.consumers) {
      if (c.kind !== 'video') continue;
      const r = byTrack.get(c.track.id) || {};
      out[c.key] = { consumerId, framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, track: c.track.readyState };
    }
    return out;
  });
}

// Runs independent checks (one per direction) to the end, then fails with
// every failure at once, so one broken direction does not hide the other.
async function allOf(checks) {
  const results = await Promise.allSettled(checks);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  if (errors.length) throw new Error(errors.join('\n---\n'));
}

// `sub` decodes `frames` frames of `pub`'s camera within `timeoutMs`.
async function decodesCamera(sub, pub, frames = 60, timeoutMs = 30000) {
  const r = await until(() => videoOf(sub.page, pub.peerId), (v) => v && v.framesDecoded >= frames, timeoutMs);
  console.log(`# ${sub.kind} ${sub.name} decoded ${r.last ? r.last.framesDecoded : 0} frames of ${pub.kind} ${pub.name}, ` +
    `${(r.last && r.last.frameWidth) || 0} wide, ${r.ms === null ? 'timed out' : `after ${r.ms} ms`}`);
  assert.ok(r.ms !== null, `${sub.kind} ${sub.name} decoded ${JSON.stringify(r.last)} of ${pub.kind} ${pub.name}: ${await describe(sub.page)}`);
  return r.last;
}

test('Firefox publishes simulcast to Chromium and Chromium to Firefox: both decode', { skip, timeout: 90000 }, async () => {
  const fox = await participant('firefox', 0, 'mix', 'fox');
  const chr = await participant('chromium', 0, 'mix', 'chr');
  await allOf([
    published(fox).then(() => decodesCamera(chr, fox)),
    published(chr).then(() => decodesCamera(fox, chr)),
  ]);
});

// Picks a quality in the demo's per-tile menu (High 2, Medium 1, Low 0).
async function chooseQuality(page, key, layer) {
  await page.evaluate(([k, v]) => {
    const sel = document.querySelector(`.tile[data-key="${k}"] select.quality`);
    sel.value = String(v);
    sel.dispatchEvent(new Event('change'));
  }, [key, layer]);
}

// `sub` watching `pub`'s camera: top layer, then Low (layer 0, a quarter of
// the width) within 5 s, then High again within 15 s.
async function layerSwitch(sub, pub) {
  const who = `${sub.kind} watching ${pub.kind}`;
  await published(pub);
  const top = await pub.page.evaluate(() => window.sfuDemo.local.getVideoTracks()[0].getSettings().width);
  const width = (pred, ms) => until(() => videoOf(sub.page, pub.peerId), (v) => v && pred(v.frameWidth), ms, 100);
  const high = await width((w) => w >= top, 40000);
  assert.ok(high.ms !== null, `${who}: never reached the top layer (${top} wide): ${JSON.stringify(high.last)}`);
  console.log(`# ${who}: top layer ${top} wide after ${high.ms} ms`);
  const key = `${pub.peerId}:camera`;
  await chooseQuality(sub.page, key, 0);
  const low = await width((w) => w > 0 && w <= top / 4, 5000);
  assert.ok(low.ms !== null, `${who}: still ${low.last && low.last.frameWidth} wide 5 s after choosing Low`);
  console.log(`# ${who}: layer 2 -> 0 (${top} -> ${low.last.frameWidth} wide) in ${low.ms} ms`);
  await chooseQuality(sub.page, key, 2);
  const back = await width((w) => w >= top, 15000);
  assert.ok(back.ms !== null, `${who}: still ${back.last && back.last.frameWidth} wide 15 s after choosing High`);
  console.log(`# ${who}: layer 0 -> 2 (${low.last.frameWidth} -> ${back.last.frameWidth} wide) in ${back.ms} ms`);
}

test('layer switching both ways: Chromium watching Firefox, Firefox watching Chromium', { skip, timeout: 120000 }, async () => {
  const fox = await participant('firefox', 0, 'layers', 'fox');
  const chr = await participant('chromium', 0, 'layers', 'chr');
  await allOf([layerSwitch(chr, fox), layerSwitch(fox, chr)]);
});

// `size` reproducible, incompressible bytes (xorshift32 from `seed`).
function randomBytes(size, seed) {
  const buffer = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buffer.writeUInt32LE(x, i);
  }
  return buffer;
}

// Both of the other peer's channels (chat, file) are open on `p`'s page.
async function channelsOpen(p) {
  try {
    await waitFor(p.page, () => {
      const d = window.sfuDemo.data;
      return d && d.chat && d.chat.readyState === 'open' &&
        d.channels.filter((c) => c.channel.readyState === 'open').length === 2;
    }, null, 30000);
  } catch (e) {
    throw new Error(`${p.kind} ${p.name}: channels not open: ${await describe(p.page)} ` +
      `${await p.page.evaluate(() => JSON.stringify(window.sfuDemo.data && window.sfuDemo.data.channels.map((c) => [c.label, c.channel.readyState])))}`);
  }
}

async function chat(from, to) {
  const text = `hello from ${from.name}`;
  await from.page.fill('#chat-input', text);
  await from.page.click('#chat-send');
  await waitFor(to.page, (t) => window.sfuDemo.data.log.some((m) => !m.mine && m.text === t), text, 15000)
    .catch(async () => assert.fail(`${to.kind} ${to.name} never got "${text}": ${JSON.stringify(await to.page.evaluate(() => window.sfuDemo.data.log))}`));
}

// Sends a file from `from` to `to` through the demo's file input; checks
// size and SHA-256 of what arrived.
async function sendFile(from, to, size, seed) {
  const buffer = randomBytes(size, seed);
  const digest = createHash('sha256').update(buffer).digest('hex');
  await from.page.setInputFiles('#file-input', { name: `${from.name}.bin`, mimeType: 'application/octet-stream', buffer });
  const files = await waitFor(to.page, () => window.sfuDemo.data.files.length > 0 && window.sfuDemo.data.files, null, 60000)
    .catch(async (e) => assert.fail(`${to.kind} ${to.name} got no file from ${from.kind}: ${e.message}: ${await describe(to.page)}`));
  assert.equal(files.length, 1);
  const f = files[0];
  assert.equal(f.size, size, `${to.kind} ${to.name} received ${f.size} bytes`);
  assert.equal(f.sha256, digest, `${to.kind} ${to.name}: SHA-256 of what arrived`);
  assert.ok(f.verified);
  console.log(`# ${from.kind} -> ${to.kind}: ${(size / 2 ** 20).toFixed(0)} MiB in ${(f.ms / 1000).toFixed(2)} s, ` +
    `${(size / 1e6 / (f.ms / 1000)).toFixed(1)} MB/s, SHA-256 verified`);
}

test('data channels both ways: chat and a byte-exact 5 MiB file each way', { skip, timeout: 120000 }, async () => {
  // Chromium sends its camera beside its channels; Firefox only channels.
  const fox = await participant('firefox', 0, 'data', 'fox', { camera: false });
  const chr = await participant('chromium', 0, 'data', 'chr');
  await channelsOpen(fox);
  await channelsOpen(chr);
  await chat(fox, chr);
  await chat(chr, fox);
  await sendFile(fox, chr, 5 * 2 ** 20, 0x12345678);
  await sendFile(chr, fox, 5 * 2 ** 20, 0x9abcdef1);
});

test('three-party call: two Firefox and one Chromium decode each other and hear audio', { skip: heavySkip, timeout: 120000 }, async () => {
  const ps = [
    await participant('firefox', 0, 'three', 'fox1'),
    await participant('firefox', 1, 'three', 'fox2'),
    await participant('chromium', 0, 'three', 'chr'),
  ];
  const pairs = ps.flatMap((sub) => ps.filter((pub) => pub !== sub).map((pub) => [sub, pub]));
  await allOf(pairs.map(async ([sub, pub]) => {
    await published(pub);
    await decodesCamera(sub, pub, 60, 45000);
    const audio = await until(async () => (await remoteVideoStats(sub.page))[pub.peerId], (s) => s && s.audio && s.audio.packets > 50, 10000);
    assert.ok(audio.ms !== null, `${sub.name} got audio ${JSON.stringify(audio.last && audio.last.audio)} of ${pub.name}`);
  }));
});

// Records every subscriber offer a page gets and whether it was applied
// (answered), plus kicks, negotiation errors and the socket closing.
async function watchNegotiation(page) {
  await page.evaluate(() => {
    const c = window.sfuDemo.client;
    const w = { offers: [], applied: 0, kicked: [], errors: [], closed: false };
    window.negotiation = w;
    const apply = c.onSubscriberOffer.bind(c);
    c.onSubscriberOffer = async (p) => { await apply(p); w.applied += 1; };
    c.addEventListener('subscriberOffer', (e) => w.offers.push(e.detail.sdp));
    c.addEventListener('kicked', (e) => w.kicked.push(e.detail.reason));
    c.addEventListener('error', (e) => w.errors.push(`${e.detail && e.detail.name}: ${e.detail && e.detail.message}`));
    c.ws.addEventListener('close', () => { w.closed = true; });
  });
}

async function negotiation(page) {
  return page.evaluate(() => {
    const w = window.negotiation;
    const sub = window.sfuDemo.client.subscriber;
    return {
      offers: w.offers.length, applied: w.applied, withPortZero: w.offers.filter((s) => /^m=\w+ 0 /m.test(s)).length,
      kicked: w.kicked, errors: w.errors, closed: w.closed, signaling: sub.signalingState, connection: sub.connectionState,
    };
  });
}

// Every offer so far applied: no kick, no error, socket open, connected.
async function assertNegotiated(p, step) {
  const n = await until(() => negotiation(p.page), (x) => x.applied === x.offers && x.signaling === 'stable', 5000, 250);
  const log = n.last;
  const where = `${p.kind} ${p.name} ${step}: ${JSON.stringify(log)}`;
  assert.deepEqual(log.kicked, [], `never kicked: ${where}`);
  assert.deepEqual(log.errors, [], `every offer applied without error: ${where}`);
  assert.equal(log.closed, false, `signaling socket open: ${where}`);
  assert.equal(log.applied, log.offers, `every offer answered: ${where}`);
  assert.equal(log.connection, 'connected', `subscriber connected: ${where}`);
  return log;
}

// The tile `key` on `page` decodes at least `frames` more frames within `ms`.
async function keepsDecoding(page, key, frames, ms, what) {
  const before = (await tiles(page))[key];
  const r = await until(() => tiles(page), (t) => t[key] && t[key].framesDecoded >= ((before && before.framesDecoded) || 0) + frames, ms);
  assert.ok(r.ms !== null, `${what}: ${JSON.stringify(before)} -> ${JSON.stringify(r.last[key])}: ${await describe(page)}`);
  return r;
}

test('Firefox subscriber stays through a participant leaving and a publisher re-offering', { skip, timeout: 150000 }, async () => {
  const ana = await participant('chromium', 0, 'reoffer', 'ana');
  const ben = await participant('chromium', 1, 'reoffer', 'ben');
  const fox = await participant('firefox', 0, 'reoffer', 'fox', { camera: false });
  const joined = Date.now();
  await decodesCamera(fox, ana, 30);
  await decodesCamera(fox, ben, 30);
  await watchNegotiation(fox.page);
  const anaCam = `${ana.peerId}:camera`;

  // ben leaves: the next offer carries his sections with port 0.
  await fox.page.evaluate((id) => {
    window.benTracks = [...window.sfuDemo.consumers.values()].filter((c) => c.key.startsWith(`${id}:`)).map((c) => c.track);
  }, ben.peerId);
  await ben.page.click('#leave-btn');
  const gone = await until(() => fox.page.evaluate(() => window.benTracks.filter((t) => t.readyState === 'ended').length), (n) => n >= 2, 15000, 250);
  assert.ok(gone.ms !== null, `ben's tracks ended at fox: ${gone.last}: ${JSON.stringify(await negotiation(fox.page))}`);
  let log = await assertNegotiated(fox, 'after ben left');
  assert.ok(log.withPortZero >= 1, `an offer with a port-0 section: ${JSON.stringify(log)}`);
  await keepsDecoding(fox.page, anaCam, 20, 5000, 'fox still decodes ana after ben left');
  console.log(`# ben left: his tracks ended at Firefox after ${gone.ms} ms; ${log.offers} offer(s), ${log.withPortZero} with port 0`);

  // ana starts sharing her screen (a publisher re-offer), then stops.
  await ana.page.click('#screen-btn');
  const screenKey = `${ana.peerId}:screen`;
  const screen = await until(() => tiles(fox.page), (t) => t[screenKey] && t[screenKey].framesDecoded >= 20, 20000);
  log = await assertNegotiated(fox, 'after ana started screen sharing');
  assert.ok(screen.ms !== null, `fox decodes ana's screen: ${JSON.stringify(screen.last)}: ${await describe(fox.page)}`);
  console.log(`# ana's screen: Firefox decoded 20 frames ${screen.ms} ms after she shared it (${screen.last[screenKey].frameWidth} wide)`);
  await keepsDecoding(fox.page, anaCam, 20, 5000, 'fox still decodes ana\'s camera while her screen is shared');

  await ana.page.click('#screen-btn');
  const stopped = await until(() => tiles(fox.page), (t) => !t[screenKey], 15000, 250);
  assert.ok(stopped.ms !== null, `ana's screen consumer ends at fox: ${JSON.stringify(stopped.last)}`);
  log = await assertNegotiated(fox, 'after ana stopped screen sharing');
  await keepsDecoding(fox.page, anaCam, 20, 5000, 'fox still decodes ana after her screen share ended');
  console.log(`# screen share ended at Firefox after ${stopped.ms} ms; ${log.offers} offers in all, ${log.withPortZero} with port 0, every one applied`);

  // Still connected past 30 s: Firefox nominates several pairs (UDP and
  // ICE-TCP), and the server must keep using the best one.
  await sleep(Math.max(0, 40000 - (Date.now() - joined)));
  await keepsDecoding(fox.page, anaCam, 20, 5000, 'fox still decodes ana 40 s after joining');
  await assertNegotiated(fox, '40 s after joining');
  const tuple = await fox.page.evaluate(async () => {
    const sub = (await window.sfuDemo.client.getStats()).transports.find((t) => t.direction === 'subscriber');
    return sub && sub.selectedTuple;
  });
  console.log(`# Firefox still decoding 40 s after joining; server's selected tuple for it: ${JSON.stringify(tuple)}`);
});

test('a Firefox subscriber answering 1.5 s late decodes a publisher that joins then', { skip, timeout: 120000 }, async () => {
  const ana = await participant('chromium', 0, 'late', 'ana');
  const fox = await participant('firefox', 0, 'late', 'fox', { camera: false });
  await decodesCamera(fox, ana, 30);
  await watchNegotiation(fox.page);
  await fox.page.evaluate(() => {
    const c = window.sfuDemo.client;
    const apply = c.onSubscriberOffer.bind(c);
    window.delayed = 0;
    c.onSubscriberOffer = async (p) => {
      window.delayed += 1;
      await new Promise((r) => setTimeout(r, 1500));
      return apply(p);
    };
  });
  const t0 = Date.now();
  const ben = await participant('chromium', 1, 'late', 'ben');
  const joinedMs = Date.now() - t0;
  const first = await until(() => videoOf(fox.page, ben.peerId), (v) => v && v.framesDecoded > 0, 30000, 250);
  const log = await negotiation(fox.page);
  const delayed = await fox.page.evaluate(() => window.delayed);
  console.log(`# late answer: ${delayed} offer(s) answered 1.5 s late; Firefox's first frame of the new publisher ` +
    (first.ms === null ? 'never came' : `${joinedMs + first.ms} ms after its page opened (it joined after ${joinedMs} ms)`));
  assert.ok(delayed >= 1, 'the new publisher reached fox through a delayed answer');
  assert.ok(first.ms !== null, `fox never decoded ben: ${JSON.stringify(first.last)}; ${JSON.stringify(log)}: ${await describe(fox.page)}`);
  await decodesCamera(fox, ben, 30, 15000);
  await assertNegotiated(fox, 'after the late answer');
  await keepsDecoding(fox.page, `${ana.peerId}:camera`, 20, 5000, 'fox still decodes ana');
});
