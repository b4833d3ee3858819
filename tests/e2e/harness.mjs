// Shared pieces of the browser end-to-end tests: start the real sfu binary
// on free loopback ports, launch Debian's chromium with a fake camera and
// microphone through playwright-core, and open the demo page.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const SFU_BIN = process.env.SFU_BIN || new URL('../../build/server/sfu', import.meta.url).pathname;

// Starts sfu; resolves with {url, port, proc, stop()} once it listens.
export function startServer(extraArgs = [], env = {}) {
  const proc = spawn(SFU_BIN, ['--listen', '127.0.0.1:0', '--rtc-listen', '127.0.0.1:0', '--workers', '1', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sfu did not start:\n${log}`)), 10000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/listening on (https?):\/\/127\.0\.0\.1:(\d+)/);
      if (m && !proc.started) {
        proc.started = true;
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          port,
          url: `${m[1]}://127.0.0.1:${port}`,
          proc,
          log: () => log,
          // Resolves with the exit code (or the signal that ended it). A
          // server that already died by a signal has exitCode null and will
          // not emit 'exit' again; one that does not stop within 45 s (drain
          // waits up to 30 s) is killed, so a hang becomes a failure.
          stop: () => new Promise((r) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return r(proc.exitCode ?? proc.signalCode);
            const kill = setTimeout(() => {
              process.stderr.write(`# sfu did not stop within 45 s of SIGTERM; killing it. Its log:\n${log}\n`);
              proc.kill('SIGKILL');
            }, 45000);
            proc.once('exit', (code, signal) => { clearTimeout(kill); r(code ?? signal); });
            proc.kill('SIGTERM');
          }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`sfu exited with ${code}:\n${log}`)));
  });
}

const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate',
  '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

// One browser per participant (its own fake devices and user data dir).
// {denyMedia: true}: camera/microphone permission prompts are denied.
export async function launchBrowser({ denyMedia = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sfu-e2e-'));
  const flags = denyMedia
    ? [...FLAGS.filter((f) => f !== '--use-fake-ui-for-media-stream'), '--deny-permission-prompts']
    : FLAGS;
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    ignoreDefaultArgs: true,
    args: [...flags, '--remote-debugging-pipe', `--user-data-dir=${dir}`, 'about:blank'],
    headless: true,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  return {
    context,
    page,
    close: async () => {
      // A browser that already died can leave close() pending: give up
      // after 20 s rather than stall the suite.
      let timer;
      await Promise.race([
        context.close().catch(() => {}),
        new Promise((r) => { timer = setTimeout(() => { process.stderr.write('# browser close timed out\n'); r(); }, 20000); }),
      ]);
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Opens the demo page and joins `room` as `name` (camera+mic on by default).
export async function joinRoom(page, server, room, name, { camera = true, token } = {}) {
  const qs = new URLSearchParams({ name, autojoin: '1' });
  if (token) qs.set('token', token);
  if (!camera) qs.set('camera', '0');
  await page.goto(`${server.url}/room/${room}?${qs}`);
}

// Waits until `fn` (evaluated in the page) returns truthy; returns its value.
export async function waitFor(page, fn, arg, timeoutMs = 20000) {
  const handle = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 250 });
  return handle.jsonValue();
}

// Decoded-frame counters of every remote video, by peer id.
export async function remoteVideoStats(page) {
  return page.evaluate(async () => {
    const s = window.sfuDemo;
    const out = {};
    if (!s.client || !s.client.subscriber) return out;
    const report = await s.client.subscriber.getStats();
    const byTrack = new Map();
    report.forEach((r) => { if (r.type === 'inbound-rtp') byTrack.set(r.trackIdentifier, r); });
    for (const [consumerId, c] of s.consumers) {
      const r = byTrack.get(c.track.id);
      const peer = c.key.split(':')[0];
      out[peer] = out[peer] || {};
      out[peer][c.kind] = r ? {
        framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, packets: r.packetsReceived || 0,
        bytes: r.bytesReceived || 0, audioEnergy: r.totalAudioEnergy || 0, consumerId,
      } : { framesDecoded: 0, packets: 0, consumerId };
    }
    return out;
  });
}

// A one-line picture of a page's call state, for assertion messages.
export async function describe(page) {
  return page.evaluate(async () => {
    const c = window.sfuDemo && window.sfuDemo.client;
    if (!c) return 'no client';
    let server = null;
    try { server = await c.getStats(); } catch (e) { server = String(e); }
    return JSON.stringify({
      peer: c.peerId, pub: c.publisher && c.publisher.connectionState, sub: c.subscriber && c.subscriber.connectionState,
      consumers: [...c.consumers.values()].map((x) => `${x.kind}:${x.peerId}`), toast: document.getElementById('toast').textContent,
      server,
    });
  }).catch((e) => `page gone: ${e.message}`);
}
