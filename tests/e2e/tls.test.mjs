// HTTPS and WSS on the listen port when a certificate and key are given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer } from './harness.mjs';

let dir;
let server;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfu-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  server = await startServer(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
});
after(async () => {
  assert.equal(await server.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test('HTTPS serves the health endpoint and the demo page', async () => {
  assert.match(server.url, /^https:/);
  const fetchText = (path) => new Promise((resolve, reject) => {
    get(`${server.url}${path}`, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
  const h = await fetchText('/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.body, 'ok\n');
  const page = await fetchText('/room/x');
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>/);
});

test('WSS carries the signaling protocol', async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws`, { rejectUnauthorized: false });
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'join', params: { room: 'secure' } }));
  const reply = await new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  assert.match(reply.result.peerId, /^p_/);
  ws.close();
});

test('plain HTTP on the TLS port is refused, and the server keeps serving', async () => {
  const res = await fetch(`http://127.0.0.1:${server.port}/healthz`).then(() => 'answered', () => 'refused');
  assert.equal(res, 'refused');
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws`, { rejectUnauthorized: false });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.close();
});
