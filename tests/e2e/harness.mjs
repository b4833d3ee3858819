// Shared pieces of the browser end-to-end tests: start the real sfu binary
// on free loopback ports, launch Debian's chromium (playwright-core) or
// firefox-esr (puppeteer-core over WebDriver BiDi) with a fake camera and
// microphone, and open the demo page.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

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
      await closeWithin20s(() => context.close());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Closes with `close()` but gives up after 20 s: a browser that already died
// can leave close() pending, which must not stall the suite.
async function closeWithin20s(close) {
  let timer;
  await Promise.race([
    close().catch(() => {}),
    new Promise((r) => { timer = setTimeout(() => { process.stderr.write('# browser close timed out\n'); r(); }, 20000); }),
  ]);
  clearTimeout(timer);
}

// Firefox prefs for calls on loopback with fake devices
// (shared/BROWSER-TESTING.md). The namespace also needs a default route.
const FIREFOX_PREFS = {
  'media.peerconnection.ice.loopback': true,
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,  // allowed, as Chromium's --autoplay-policy
};

// The subset of Playwright's Page that the tests and the helpers below use,
// on top of a puppeteer-core page, so a test can treat both browsers alike.
class FirefoxPage {
  constructor(page, dir) {
    this.raw = page;
    this.dir = dir;
  }

  goto(url) { return this.raw.goto(url); }
  reload() { return this.raw.reload(); }
  evaluate(fn, arg) { return this.raw.evaluate(fn, arg); }
  click(selector) { return this.raw.click(selector); }
  fill(selector, text) { return this.raw.locator(selector).fill(text); }
  addInitScript(fn, arg) { return this.raw.evaluateOnNewDocument(fn, arg); }

  // Playwright's argument order: (fn, arg, {timeout, polling}).
  waitForFunction(fn, arg, { timeout = 30000, polling = 100 } = {}) {
    return this.raw.waitForFunction(fn, { timeout, polling: polling === 'raf' ? 100 : polling }, arg);
  }

  // Playwright's {name, mimeType, buffer} form: written to a file first.
  async setInputFiles(selector, { name, buffer }) {
    const path = join(this.dir, name);
    writeFileSync(path, buffer);
    const input = await this.raw.$(selector);
    await input.uploadFile(path);
  }
}

// A Firefox participant, the same shape as launchBrowser(): {page, close}.
export async function launchFirefox() {
  const dir = mkdtempSync(join(tmpdir(), 'sfu-e2e-ff-'));
  mkdirSync(join(dir, 'profile'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_BIN || '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: join(dir, 'profile'),
    extraPrefsFirefox: FIREFOX_PREFS,
    timeout: 60000,
  });
  const page = (await browser.pages())[0] || (await browser.newPage());
  page.on('pageerror', (e) => console.log(`[firefox page error] ${e.message}`));
  return {
    browser,
    page: new FirefoxPage(page, dir),
    close: async () => {
      await closeWithin20s(() => browser.close());
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
