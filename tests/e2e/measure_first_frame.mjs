// Measurements for the interop issue, not a test (CI does not run it):
//   node measure_first_frame.mjs [joins=10]
// 1. join → first decoded frame of a Chromium subscriber joining a room with
//    a live simulcast publisher, over `joins` joins (p50/p99);
// 2. the frames per second of a two-party call with and without a silent
//    third producer (a protocol client that publishes audio+video and never
//    connects its transport).
// Run inside the e2e namespace with SFU_BIN set (see run.sh).
import WebSocket from 'ws';
import { startServer, launchBrowser, joinRoom } from './harness.mjs';

const joins = Number(process.argv[2] || 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function videoFrames(page) {
  return page.evaluate(async () => {
    const c = window.sfuDemo && window.sfuDemo.client;
    if (!c || !c.subscriber) return 0;
    let frames = 0;
    (await c.subscriber.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
    return frames;
  }).catch(() => 0);
}

// A publisher that never connects: join, publish an offer, then stay silent.
async function silentPublisher(port, room) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const call = (id, method, params) => new Promise((res) => {
    ws.on('message', function on(d) { const m = JSON.parse(d.toString()); if (m.id === id) { ws.off('message', on); res(m); } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
  await call(1, 'join', { room, name: 'silent', autoSubscribe: false });
  const fp = Array.from({ length: 32 }, () => 'AB').join(':');
  const head = (m, mid) => [m, 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:silx', 'a=ice-pwd:silentsilentsilentsilent12',
    `a=fingerprint:sha-256 ${fp}`, 'a=setup:actpass', `a=mid:${mid}`, 'a=sendonly', 'a=rtcp-mux'];
  const sdp = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    ...head('m=audio 9 UDP/TLS/RTP/SAVPF 111', 0), 'a=rtpmap:111 opus/48000/2', 'a=ssrc:1111 cname:s',
    ...head('m=video 9 UDP/TLS/RTP/SAVPF 96', 1), 'a=rtpmap:96 VP8/90000', 'a=ssrc:2222 cname:s', ''].join('\r\n');
  const r = await call(2, 'publish', { sdp });
  if (r.error) throw new Error(JSON.stringify(r.error));
  return ws;
}

const server = await startServer();
const publisher = await launchBrowser();
await joinRoom(publisher.page, server, 'ff', 'pub');
await sleep(4000);
const times = [];
// Timed inside the page, from the join request (SfuClient.joinSentAt) to
// the first getStats() that shows a decoded video frame, polled every 5 ms
// from the moment the subscriber connection exists. Page loading, which
// comes before the join, is left out; so is the harness's polling. Each
// join's phases are printed: join answered, subscriber offer received
// (its RTCPeerConnection made), answer set (createAnswer is Chromium's own
// time), connected (ICE + DTLS), first video RTP (the key frame), frame.
const firstFrameProbe = () => {
  const t = (window.joinTimes = {});
  const tick = async () => {
    const c = window.sfuDemo && window.sfuDemo.client;
    const since = () => Math.round(performance.now() - c.joinSentAt);
    if (c && c.peerId && t.joined === undefined) t.joined = since();
    if (c && c.subscriber && window.firstFrameAt === undefined) {
      if (t.offer === undefined) t.offer = since();
      if (t.answered === undefined && c.subscriber.signalingState === 'stable' && c.subscriber.remoteDescription) t.answered = since();
      if (t.connected === undefined && c.subscriber.connectionState === 'connected') t.connected = since();
      let frames = 0, packets = 0;
      (await c.subscriber.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') { frames += r.framesDecoded || 0; packets += r.packetsReceived || 0; }
      });
      if (t.rtp === undefined && packets > 0) t.rtp = since();
      if (frames > 0) window.firstFrameAt = performance.now() - c.joinSentAt;
    }
    if (window.firstFrameAt === undefined) setTimeout(tick, 5);
  };
  tick();
};
const phases = [];
for (let i = 0; i < joins; i++) {
  const b = await launchBrowser();
  await b.page.addInitScript(firstFrameProbe);
  const t0 = Date.now();
  await joinRoom(b.page, server, 'ff', `sub${i}`, { camera: false });
  let ms;
  while (Date.now() - t0 < 20000 && (ms = await b.page.evaluate(() => window.firstFrameAt).catch(() => undefined)) === undefined) await sleep(20);
  times.push(Math.round(ms ?? 20000));
  const p = await b.page.evaluate(() => window.joinTimes).catch(() => ({}));
  phases.push(`joined ${p.joined}, offer ${p.offer}, answered ${p.answered}, connected ${p.connected}, first video RTP ${p.rtp}, first frame ${times.at(-1)} ms`);
  await b.close();
}
for (const p of phases) console.log(`  ${p}`);
console.log(`join request -> first decoded frame (Chromium) over ${joins} joins: p50 ${pct(times, 0.5)} ms, p99 ${pct(times, 0.99)} ms (${times.join(', ')})`);

const viewer = await launchBrowser();
await joinRoom(viewer.page, server, 'ff', 'viewer', { camera: false });
await sleep(6000);
let a = await videoFrames(viewer.page);
await sleep(6000);
const quiet = (await videoFrames(viewer.page)) - a;
const silent = await silentPublisher(server.port, 'ff');
await sleep(5000);
a = await videoFrames(viewer.page);
await sleep(6000);
const withSilent = (await videoFrames(viewer.page)) - a;
console.log(`two-party call: ${quiet} frames in 6 s alone, ${withSilent} frames in 6 s beside a silent producer`);
silent.close();
await viewer.close();
await publisher.close();
await server.stop();
