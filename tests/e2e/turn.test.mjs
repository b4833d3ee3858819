// A call through a real TURN server: Debian's coturn (turnserver) on
// loopback with TURN REST credentials (use-auth-secret), the sfu handing them
// out in join's iceServers (--turn-secret), and Chromium pages that may use
// relay candidates only (iceTransportPolicy 'relay'), over UDP and over TCP
// to the TURN server. Expired credentials are refused (401).
//
// The demo page builds its RTCPeerConnections without iceServers, so the
// pages here run a small client of their own (pageJoin below: plain
// RTCPeerConnection and the JSON-RPC of signaling/PROTOCOL.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startServer, launchBrowser } from './harness.mjs';

const TURNSERVER = (process.env.TURNSERVER_BIN ? [process.env.TURNSERVER_BIN]
  : (process.env.PATH || '').split(delimiter).concat('/usr/bin', '/usr/sbin').map((d) => join(d, 'turnserver'))).find((p) => existsSync(p));
const skip = !TURNSERVER && 'turnserver is not installed (Debian coturn; deploy/install-deps.sh installs it)';

const SECRET = 'turn-e2e-secret';
const REALM = 'sfu.test';
const HOLD_MS = 5000;  // how long each call is held after its first decoded frame
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// TURN REST credentials (coturn use-auth-secret), as signaling/auth.hpp makes them.
function restCredentials(secret, expiry, identity) {
  const username = `${expiry}:${identity}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

// A loopback port free for both TCP and UDP (TURN listens on both).
async function freePort() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer();
    await new Promise((r, j) => { tcp.once('error', j); tcp.listen(0, '127.0.0.1', r); });
    const { port } = tcp.address();
    const udp = createSocket('udp4');
    const ok = await new Promise((r) => { udp.once('error', () => r(false)); udp.bind(port, '127.0.0.1', () => r(true)); });
    await new Promise((r) => tcp.close(r));
    if (ok) await new Promise((r) => udp.close(r));
    if (ok) return port;
  }
  throw new Error('no loopback port free for both TCP and UDP');
}

// Starts coturn in the foreground on 127.0.0.1:port, relaying on 127.0.0.1.
// Resolves with {port, proc, log(), stop()} once it listens on UDP and TCP;
// stop() ends it (SIGTERM, SIGKILL after 5 s) and removes its temp dir.
async function startTurn() {
  const dir = mkdtempSync(join(tmpdir(), 'sfu-turn-'));
  const port = await freePort();
  const logFile = join(dir, 'turn.log');
  const args = [
    '-n',                      // no configuration file (not /etc/turnserver.conf): flags only
    '--no-cli', '--no-tls', '--no-dtls',
    '--listening-ip', '127.0.0.1', '--listening-port', String(port),
    '--relay-ip', '127.0.0.1',
    '--allow-loopback-peers',  // the sfu is on 127.0.0.1: refused as a peer otherwise (403)
    '--use-auth-secret', `--static-auth-secret=${SECRET}`, '--realm', REALM,
    '--fingerprint', '--no-rfc5780',
    '--userdb', join(dir, 'turndb'),  // not /var/lib/turn/turndb
    '--pidfile', join(dir, 'turnserver.pid'),
    '--log-file', logFile, '--simple-log', '--no-stdout-log', '--verbose',
  ];
  const proc = spawn(TURNSERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const killOnExit = () => proc.kill('SIGKILL');  // should node exit without the after hook
  process.once('exit', killOnExit);
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d.toString(); });
  const log = () => {
    try { return readFileSync(logFile, 'utf8'); } catch { return ''; }
  };
  const stop = () => new Promise((r) => {
    const done = () => {
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
      r(proc.exitCode ?? proc.signalCode);
    };
    if (proc.exitCode !== null || proc.signalCode !== null) return done();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(kill); done(); });
    proc.kill('SIGTERM');
  });
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const text = `turnserver exited (${proc.exitCode ?? proc.signalCode}):\n${stderr}\n${log()}`;
      await stop();
      throw new Error(text);
    }
    // Ready once the UDP listener is open (logged after the TCP ones) and TCP accepts.
    const up = /UDP listener opened on: 127\.0\.0\.1:/.test(log()) && await new Promise((r) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (up) return { port, proc, log, stop };
    if (Date.now() > deadline) {
      const text = `turnserver did not start within 10 s:\n${stderr}\n${log()}`;
      await stop();
      throw new Error(text);
    }
    await sleep(100);
  }
}

// --- Page side (serialised into the page by page.evaluate) ---

// Joins `room` over the signaling protocol with RTCPeerConnections that use
// only the join result's TURN URLs of `transport` ('udp': those without
// ?transport=tcp; 'tcp': those with it) and relay candidates only. With
// `publish`, sends the fake camera; otherwise receives (autoSubscribe).
// State lives in window.turnTest.
async function pageJoin({ wsUrl, room, name, transport, publish }) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('websocket failed')); });
  let nextId = 1;
  const pending = new Map();
  const rpc = (method, params = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
  const t = { rpc, pcs: {}, errors: [], candidateErrors: [], framesSeen: 0 };
  window.turnTest = t;
  let config;
  const watch = (pc, role) => {
    pc.onicecandidateerror = (e) => t.candidateErrors.push({ role, code: e.errorCode, text: e.errorText, url: e.url });
    t.pcs[role] = pc;
    return pc;
  };
  async function answer({ sdp }) {
    const pc = t.pcs.subscriber || watch(new RTCPeerConnection(config), 'subscriber');
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await rpc('subscriberAnswer', { sdp: pc.localDescription.sdp });
  }
  let negotiating = Promise.resolve();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id !== undefined && msg.id !== null && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.code} ${msg.error.message}`));
      else p.resolve(msg.result);
    } else if (msg.method === 'subscriberOffer') {
      negotiating = negotiating.then(() => answer(msg.params)).catch((err) => t.errors.push(String(err)));
    }
  };
  const joined = await rpc('join', { room, name, autoSubscribe: !publish });
  const wantTcp = transport === 'tcp';
  const iceServers = joined.iceServers
    .map((s) => ({ ...s, urls: s.urls.filter((u) => u.startsWith('turn:') && u.endsWith('?transport=tcp') === wantTcp) }))
    .filter((s) => s.urls.length > 0);
  config = { iceServers, iceTransportPolicy: 'relay', bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
  t.peerId = joined.peerId;
  if (publish) {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    const pc = watch(new RTCPeerConnection(config), 'publisher');
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    const result = await rpc('publish', { sdp: pc.localDescription.sdp, sources: {} });
    await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
  }
  return { peerId: joined.peerId, iceServers };
}

// The selected candidate pair of `role`'s connection and its video counters.
async function pageStats(role) {
  const t = window.turnTest;
  const pc = t && t.pcs[role];
  if (!pc) return null;
  const report = await pc.getStats();
  let transport = null;
  let rtp = null;
  report.forEach((r) => {
    if (r.type === 'transport') transport = r;
    if ((r.type === 'inbound-rtp' || r.type === 'outbound-rtp') && r.kind === 'video') rtp = r;
  });
  const pair = transport && report.get(transport.selectedCandidatePairId);
  const cand = (id) => {
    const c = id && report.get(id);
    return c ? { type: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol, address: c.address, port: c.port, url: c.url } : null;
  };
  return {
    connectionState: pc.connectionState,
    local: pair ? cand(pair.localCandidateId) : null,
    remote: pair ? cand(pair.remoteCandidateId) : null,
    framesDecoded: (rtp && rtp.framesDecoded) || 0,
    framesSent: (rtp && rtp.framesSent) || 0,
    width: (rtp && (rtp.frameWidth || 0)) || 0,
    height: (rtp && (rtp.frameHeight || 0)) || 0,
    bytes: (rtp && (rtp.bytesReceived || rtp.bytesSent)) || 0,
    errors: t.errors,
    candidateErrors: t.candidateErrors,
  };
}

// Gathers with `iceServers` and relay candidates only; resolves when
// gathering completes (or after timeoutMs) with the candidates and the
// icecandidateerror events seen.
async function pageGather({ iceServers, timeoutMs }) {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const candidates = [];
  const errors = [];
  pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) candidates.push({ type: e.candidate.type, address: e.candidate.address, port: e.candidate.port }); };
  pc.onicecandidateerror = (e) => errors.push({ code: e.errorCode, text: e.errorText, url: e.url });
  pc.createDataChannel('probe');
  const started = performance.now();
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
    setTimeout(resolve, timeoutMs);
  });
  const result = { candidates, errors, state: pc.iceGatheringState, ms: Math.round(performance.now() - started) };
  pc.close();
  return result;
}

// --- Node side ---

let turn;
let server;
let sender;
let receiver;

before(async () => {
  if (skip) return;
  turn = await startTurn();
  server = await startServer(['--turn-secret', SECRET,
    '--ice-server', `turn:127.0.0.1:${turn.port}`, '--ice-server', `turn:127.0.0.1:${turn.port}?transport=tcp`]);
  [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
});

after(async () => {
  for (const b of [sender, receiver]) if (b) await b.close();
  let code = 0;
  if (server) code = await server.stop();
  if (turn) await turn.stop();
  assert.equal(code, 0, 'sfu exits cleanly on SIGTERM');
});

// Opens a page on the server's origin (a secure context for getUserMedia)
// with no client of its own.
const blank = (b) => b.page.goto(`${server.url}/healthz`);

function logTail() {
  return turn.log().split('\n').slice(-40).join('\n');
}

async function callThroughRelay(transport) {
  const room = `turn-${transport}`;
  const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
  await Promise.all([blank(sender), blank(receiver)]);
  try {
    const rx = await receiver.page.evaluate(pageJoin, { wsUrl, room, name: 'receiver', transport, publish: false });
    const joinedAt = Date.now();
    const tx = await sender.page.evaluate(pageJoin, { wsUrl, room, name: 'sender', transport, publish: true });
    for (const j of [rx, tx]) {
      assert.equal(j.iceServers.length, 1);
      assert.deepEqual(j.iceServers[0].urls, [transport === 'tcp' ? `turn:127.0.0.1:${turn.port}?transport=tcp` : `turn:127.0.0.1:${turn.port}`]);
    }

    // First decoded frame, then hold the call HOLD_MS.
    let rxs;
    const firstDeadline = Date.now() + 20000;
    for (;;) {
      rxs = await receiver.page.evaluate(pageStats, 'subscriber');
      if (rxs && rxs.framesDecoded > 0) break;
      if (Date.now() > firstDeadline) {
        const txs = await sender.page.evaluate(pageStats, 'publisher');
        assert.fail(`no frame decoded through the ${transport} relay within 20 s: receiver ${JSON.stringify(rxs)}, sender ${JSON.stringify(txs)}\ncoturn log:\n${logTail()}`);
      }
      await sleep(100);
    }
    const firstFrameMs = Date.now() - joinedAt;
    const framesAtFirst = rxs.framesDecoded;
    const bytesAtFirst = rxs.bytes;
    await sleep(HOLD_MS);
    rxs = await receiver.page.evaluate(pageStats, 'subscriber');
    const txs = await sender.page.evaluate(pageStats, 'publisher');
    const held = rxs.framesDecoded - framesAtFirst;
    const serverStats = await receiver.page.evaluate(() => window.turnTest.rpc('getStats'));
    const serverSenderStats = await sender.page.evaluate(() => window.turnTest.rpc('getStats'));

    const kbps = Math.round(((rxs.bytes - bytesAtFirst) * 8) / HOLD_MS);
    console.log(`# ${transport.toUpperCase()} relay: ${rxs.framesDecoded} frames decoded (${held} in the ${HOLD_MS / 1000} s held after the first, ` +
      `first frame ${firstFrameMs} ms after the sender started to join), ${rxs.width}x${rxs.height}, ${kbps} kbit/s while held; ` +
      `receiver's local candidate ${rxs.local.type}/${rxs.local.relayProtocol} ${rxs.local.address}:${rxs.local.port}, ` +
      `sender's ${txs.local.type}/${txs.local.relayProtocol} ${txs.local.address}:${txs.local.port}`);

    for (const [who, s] of [['receiver', rxs], ['sender', txs]]) {
      assert.equal(s.connectionState, 'connected', `${who}: ${JSON.stringify(s)}`);
      assert.equal(s.local.type, 'relay', `${who}'s selected local candidate: ${JSON.stringify(s.local)}`);
      assert.equal(s.local.relayProtocol, transport, `${who} reaches the TURN server over ${transport}: ${JSON.stringify(s.local)}`);
      // Chromium reports the URL with the transport made explicit.
      assert.equal(s.local.url, `turn:127.0.0.1:${turn.port}?transport=${transport}`, `${who}'s TURN server`);
      assert.deepEqual(s.errors, [], `${who}'s page errors`);
    }
    // The server sees each connection come from the relayed address coturn
    // allocated, not from Chromium's own socket.
    for (const [who, s, st, dir] of [['receiver', rxs, serverStats, 'subscriber'], ['sender', txs, serverSenderStats, 'publisher']]) {
      const tr = st.transports.find((x) => x.direction === dir);
      assert.ok(tr && tr.selectedTuple, `server's ${dir} transport of the ${who}: ${JSON.stringify(st.transports)}`);
      assert.equal(tr.selectedTuple.protocol, 'udp', `coturn relays to the sfu over UDP: ${JSON.stringify(tr.selectedTuple)}`);
      assert.equal(tr.selectedTuple.remote, `${s.local.address}:${s.local.port}`, `server's remote is the ${who}'s relayed address`);
    }
    assert.ok(held >= 60, `${held} frames decoded in ${HOLD_MS} ms through the ${transport} relay (the fake camera sends 20 fps)`);
    return { frames: rxs.framesDecoded, held, firstFrameMs };
  } finally {
    await Promise.all([blank(sender), blank(receiver)]).catch(() => {});
  }
}

test('a call through coturn over UDP: relay candidates only, frames decoded', { skip, timeout: 40000 }, async () => {
  await callThroughRelay('udp');
});

test('a call through coturn over TCP (turn:...?transport=tcp): relay candidates only, frames decoded', { skip, timeout: 40000 }, async () => {
  await callThroughRelay('tcp');
});

test('coturn refuses expired TURN REST credentials (401) and allocates with fresh ones', { skip, timeout: 40000 }, async () => {
  await blank(receiver);
  const now = Math.floor(Date.now() / 1000);
  for (const url of [`turn:127.0.0.1:${turn.port}`, `turn:127.0.0.1:${turn.port}?transport=tcp`]) {
    const expired = await receiver.page.evaluate(pageGather,
      { iceServers: [{ urls: [url], ...restCredentials(SECRET, now - 3600, 'late') }], timeoutMs: 10000 });
    const fresh = await receiver.page.evaluate(pageGather,
      { iceServers: [{ urls: [url], ...restCredentials(SECRET, now + 3600, 'early') }], timeoutMs: 10000 });
    console.log(`# ${url} with credentials expired an hour ago: ${expired.candidates.length} relay candidates, errors ` +
      `${JSON.stringify(expired.errors)} (gathering ${expired.state} after ${expired.ms} ms); fresh: ` +
      `${fresh.candidates.map((c) => `${c.type} ${c.address}:${c.port}`).join(', ')} (${fresh.ms} ms)`);
    assert.deepEqual(expired.candidates, [], `no relay candidate with expired credentials (${url})`);
    assert.ok(expired.errors.some((e) => e.code === 401), `icecandidateerror 401 with expired credentials (${url}): ${JSON.stringify(expired.errors)}\n${logTail()}`);
    assert.ok(fresh.candidates.some((c) => c.type === 'relay'), `a relay candidate with fresh credentials (${url}): ${JSON.stringify(fresh)}\n${logTail()}`);
    assert.deepEqual(fresh.errors, [], `no candidate error with fresh credentials (${url})`);
  }
});
