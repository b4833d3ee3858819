// The demo page explains what went wrong: denied camera/microphone, and a
// server that cannot be reached (the refused token is in lifecycle.test.mjs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, joinRoom } from './harness.mjs';

const browsers = [];
after(async () => { for (const b of browsers) await b.close(); });

async function lobbyError(page) {
  return (await page.waitForFunction(() => {
    const e = document.getElementById('lobby-error');
    return !e.hidden && e.textContent;
  }, null, { timeout: 15000 })).jsonValue();
}

test('denied camera and microphone permission gets a clear message', async () => {
  const server = await startServer();
  try {
    const b = await launchBrowser({ denyMedia: true });
    browsers.push(b);
    await joinRoom(b.page, server, 'perm', 'ana');
    assert.match(await lobbyError(b.page), /permission was denied/);
  } finally {
    await server.stop();
  }
});

test('an unreachable server gets a clear message', async () => {
  const server = await startServer();
  const b = await launchBrowser();
  browsers.push(b);
  await b.page.goto(`${server.url}/room/gone?name=ana`);
  await server.stop();  // the page is loaded; the signaling server is gone
  await b.page.uncheck('#cam-input');
  await b.page.click('button[type=submit]');
  assert.match(await lobbyError(b.page), /Cannot reach the server/);
});
