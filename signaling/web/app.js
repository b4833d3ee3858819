// The demo page: join a room named in the URL (/room/<name> or ?room=),
// publish camera and microphone with three-layer simulcast, share a screen,
// see everyone else, choose each tile's quality, watch live statistics.
import { SfuClient, RpcError } from '/sfu-client.js';
import { DataUi } from '/data.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const pathRoom = location.pathname.startsWith('/room/') ? decodeURIComponent(location.pathname.slice(6)) : '';
const state = {
  client: null,
  local: null,        // camera + mic stream
  screen: null,       // screen stream
  tiles: new Map(),   // key (peerId:source) -> tile
  consumers: new Map(), // consumerId -> {tileKey, kind}
  statsTimer: null,
  data: null,         // DataUi: chat and file transfer
  // Reconnecting (PROTOCOL.md "Reconnecting"): the session ended without
  // leave, kicked or roomClosed, or the server asked (reconnect).
  ended: false,       // left, kicked or the room closed: no reconnect
  reconnecting: false,
  reconnects: 0,      // sessions re-established (for tests)
  reconnectAt: 0,     // Date.now() of the last loss
  lastReconnectMs: 0, // loss -> joined again, last time
  attempts: [],       // the last reconnect attempts: {at (ms after the loss), error}
};
window.sfuDemo = state;  // for tests and debugging

$('room-input').value = params.get('room') || pathRoom || '';
$('name-input').value = params.get('name') || localStorage.getItem('sfu-name') || '';
if (params.get('camera') === '0') $('cam-input').checked = false;

function toast(text, ms = 3500) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(t.timer);
  t.timer = setTimeout(() => { t.hidden = true; }, ms);
}

function showLobbyError(text) {
  const e = $('lobby-error');
  e.textContent = text;
  e.hidden = false;
}

function setConn(s, text) {
  const c = $('conn-state');
  c.dataset.state = s;
  c.textContent = text;
}

function explain(err) {
  if (err instanceof RpcError) {
    if (err.code === 4001) return 'Your invitation token was refused (missing, expired or for another room).';
    if (err.code === 4003) return 'Your token does not allow this action.';
    if (err.code === 4013) return 'This room is full.';
    if (err.code === 5003) return 'This server is not taking new calls right now. Try again in a moment.';
    return `The server refused: ${err.message}`;
  }
  if (err && (err.name === 'NotAllowedError' || err.name === 'SecurityError'))
    return 'Camera or microphone permission was denied. Allow it in the browser\'s site settings, or join without camera.';
  if (err && err.name === 'NotFoundError') return 'No camera or microphone was found. You can join without them.';
  return err && err.message === 'cannot reach the server'
    ? 'Cannot reach the server. Check that it is running and the address is right.'
    : `Something went wrong: ${err && err.message}`;
}

function tileFor(key, label) {
  let tile = state.tiles.get(key);
  if (tile) return tile;
  tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.key = key;
  tile.innerHTML = `<div class="placeholder"></div><video autoplay playsinline></video>
    <div class="label"></div><div class="stats"></div>`;
  tile.querySelector('.label').textContent = label;
  tile.querySelector('.placeholder').textContent = (label.trim()[0] || '?').toUpperCase();
  $('grid').appendChild(tile);
  state.tiles.set(key, tile);
  return tile;
}

function removeTile(key) {
  const tile = state.tiles.get(key);
  if (!tile) return;
  tile.remove();
  state.tiles.delete(key);
}

function addQualitySelect(tile, consumerId) {
  if (tile.querySelector('.quality')) return;
  const sel = document.createElement('select');
  sel.className = 'quality';
  sel.title = 'Receive quality';
  sel.innerHTML = '<option value="2">High</option><option value="1">Medium</option><option value="0">Low</option>';
  sel.onchange = () => state.client.setPreferredLayers(consumerId, Number(sel.value)).catch((e) => toast(explain(e)));
  tile.appendChild(sel);
}

function renderPeople() {
  const ul = $('people');
  ul.innerHTML = '';
  const me = document.createElement('li');
  me.textContent = `${$('name-input').value || 'You'} (you)`;
  ul.appendChild(me);
  for (const p of state.client.peers.values()) {
    const li = document.createElement('li');
    li.dataset.peer = p.peerId;
    li.textContent = p.name;
    ul.appendChild(li);
  }
}

function peerName(peerId) {
  const p = state.client.peers.get(peerId);
  return p ? p.name : peerId;
}

function wire(client) {
  client.addEventListener('track', ({ detail }) => {
    const producer = client.producers.get(detail.producerId);
    const source = producer && producer.source === 'screen' ? 'screen' : 'camera';
    const key = `${detail.peerId}:${source}`;
    const tile = tileFor(key, source === 'screen' ? `${peerName(detail.peerId)} — screen` : peerName(detail.peerId));
    tile.dataset.peer = detail.peerId;
    const video = tile.querySelector('video');
    if (!video.srcObject) video.srcObject = new MediaStream();
    video.srcObject.addTrack(detail.track);
    if (detail.kind === 'video') {
      tile.querySelector('.placeholder').hidden = true;
      addQualitySelect(tile, detail.consumerId);
    }
    state.consumers.set(detail.consumerId, { key, kind: detail.kind, track: detail.track });
    detail.track.addEventListener('ended', () => video.srcObject && video.srcObject.removeTrack(detail.track));
  });
  client.addEventListener('consumerClosed', ({ detail }) => {
    const c = state.consumers.get(detail.consumerId);
    state.consumers.delete(detail.consumerId);
    if (!c) return;
    const still = [...state.consumers.values()].some((x) => x.key === c.key);
    if (!still) removeTile(c.key);
  });
  client.addEventListener('peerJoined', ({ detail }) => { renderPeople(); toast(`${detail.name} joined`); });
  client.addEventListener('peerLeft', ({ detail }) => {
    for (const [key] of state.tiles) if (key.startsWith(`${detail.peerId}:`)) removeTile(key);
    renderPeople();
  });
  client.addEventListener('activeSpeaker', ({ detail }) => {
    for (const t of state.tiles.values()) t.classList.toggle('speaking', t.dataset.peer === detail.peerId);
    for (const li of $('people').children) li.classList.toggle('speaking', li.dataset.peer === detail.peerId);
  });
  client.addEventListener('subscriberState', ({ detail }) => setConn(detail.state, `Media ${detail.state}`));
  client.addEventListener('publisherState', ({ detail }) => {
    if (detail.state === 'failed') toast('Sending media failed: the network path to the server was lost.');
  });
  client.addEventListener('kicked', ({ detail }) => {
    state.ended = true;
    toast(`Removed from the room: ${detail.reason}`, 8000);
  });
  client.addEventListener('roomClosed', ({ detail }) => {
    state.ended = true;
    toast(`The room was closed: ${detail.reason}`, 8000);
  });
  client.addEventListener('reconnect', ({ detail }) => { client.reconnectReason = detail.reason || 'server'; });
  client.addEventListener('closed', () => {
    if (client !== state.client) return;  // an old session, already replaced
    if (state.ended) return setConn('closed', 'Disconnected');
    reconnect(client.reconnectReason);
  });
  client.addEventListener('error', ({ detail }) => toast(explain(detail)));
}

// One session: a client joined to the room, publishing what we share.
async function startSession(room, name) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new SfuClient({ url: `${proto}://${location.host}/ws`, room, name: name || undefined, token: params.get('token') || undefined });
  state.client = client;
  wire(client);
  if (state.data) {
    state.data.attach(client);
  } else {
    state.data = new DataUi(client, {
      peerName,
      myName: () => $('name-input').value.trim() || 'You',
      toast,
    }, {
      chatLog: $('chat-log'), chatInput: $('chat-input'), chatSend: $('chat-send'),
      fileInput: $('file-input'), transfers: $('transfers'),
    });
  }
  await client.join();
  return client;
}

async function publishAll(client) {
  if (state.local) {
    try {
      await client.publish(state.local, { simulcast: true });
    } catch (e) {
      toast(explain(e));
    }
  }
  if (state.screen) await client.publish(state.screen, { simulcast: false, source: 'screen' }).catch((e) => toast(explain(e)));
  state.data.open().catch((e) => toast(`Chat unavailable: ${e.message}`));
}

async function join(ev) {
  ev.preventDefault();
  $('lobby-error').hidden = true;
  const room = $('room-input').value.trim();
  const name = $('name-input').value.trim();
  localStorage.setItem('sfu-name', name);
  setConn('connecting', 'Connecting…');
  if ($('cam-input').checked) {
    try {
      state.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
    } catch (e) {
      showLobbyError(explain(e));
      setConn('idle', 'Not connected');
      return;
    }
  }
  let client;
  try {
    client = await startSession(room, name);
  } catch (e) {
    showLobbyError(explain(e));
    setConn('failed', 'Not connected');
    if (state.local) state.local.getTracks().forEach((t) => t.stop());
    return;
  }
  history.replaceState(null, '', `/room/${encodeURIComponent(room)}${location.search}`);
  $('room-title').textContent = room;
  $('lobby').hidden = true;
  $('call').hidden = false;
  $('controls').hidden = false;
  setConn('connected', 'Connected');
  renderPeople();
  if (state.local) {
    const tile = tileFor('me:camera', `${name || 'You'} (you)`);
    const v = tile.querySelector('video');
    v.muted = true;
    v.srcObject = state.local;
    tile.querySelector('.placeholder').hidden = true;
  }
  await publishAll(client);
  state.statsTimer = setInterval(updateStats, 1000);
}

// PROTOCOL.md "Reconnecting": the same room and token through the same URL
// (behind a balancer: a live node), after 0.5 s doubling to 8 s, each delay
// drawn from [d/2, d]; at once when the server asked (reconnect). The new
// session is a new peer: what we shared is published again.
async function reconnect(reason) {
  if (state.reconnecting) return;
  state.reconnecting = true;
  state.reconnectAt = Date.now();
  const old = state.client;
  old.close();
  for (const key of [...state.tiles.keys()]) if (!key.startsWith('me:')) removeTile(key);
  state.consumers.clear();
  setConn('connecting', reason ? `Moving to another server (${reason})…` : 'Connection lost, reconnecting…');
  const room = $('room-title').textContent;
  const name = $('name-input').value.trim();
  for (let attempt = 0; !state.ended; attempt++) {
    const ceiling = Math.min(8000, 500 * 2 ** attempt);
    const delay = attempt === 0 && reason ? 0 : ceiling / 2 + Math.random() * (ceiling / 2);
    await new Promise((r) => setTimeout(r, delay));
    let client;
    try {
      client = await startSession(room, name);
      state.attempts.push({ at: Date.now() - state.reconnectAt, error: null });
    } catch (e) {
      state.attempts.push({ at: Date.now() - state.reconnectAt, error: e.message });
      state.attempts = state.attempts.slice(-20);
      if (e instanceof RpcError && (e.code === 4001 || e.code === 4003)) {
        state.ended = true;
        setConn('failed', 'Not connected');
        toast(`Cannot rejoin: ${e.message}`, 8000);
        break;
      }
      if (state.client) state.client.close();
      continue;
    }
    state.reconnects += 1;
    state.lastReconnectMs = Date.now() - state.reconnectAt;
    state.reconnecting = false;
    setConn('connected', 'Connected');
    renderPeople();
    toast('Reconnected');
    await publishAll(client);
    return;
  }
  state.reconnecting = false;
}

async function updateStats() {
  if (!document.body.classList.contains('show-stats') || !state.client || !state.client.subscriber) return;
  const report = await state.client.subscriber.getStats();
  const byTrack = new Map();
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') byTrack.set(s.trackIdentifier, s);
  });
  let server = null;
  try { server = await state.client.getStats(); } catch { /* shown without the server's view */ }
  for (const [consumerId, c] of state.consumers) {
    if (c.kind !== 'video') continue;
    const s = byTrack.get(c.track.id);
    const tile = state.tiles.get(c.key);
    if (!s || !tile) continue;
    const prev = c.prev || s;
    const dt = (s.timestamp - prev.timestamp) / 1000 || 1;
    const kbps = Math.round(((s.bytesReceived - prev.bytesReceived) * 8) / dt / 1000);
    c.prev = s;
    const sc = server && server.consumers.find((x) => x.consumerId === consumerId);
    const sub = server && server.transports.find((t) => t.direction === 'subscriber');
    tile.querySelector('.stats').textContent =
      `${s.frameWidth || 0}x${s.frameHeight || 0} @ ${Math.round(s.framesPerSecond || 0)} fps\n` +
      `${kbps} kbit/s  lost ${s.packetsLost}\n` +
      (sc ? `layer ${sc.currentLayers.spatial}/${sc.currentLayers.temporal}  nack ${sc.nacks}\n` : '') +
      (sub ? `rtt ${Math.round(sub.rtt)} ms  bwe ${Math.round(sub.availableOutgoingBitrate / 1000)} kbit/s` : '');
  }
}

function toggleTrack(kind, btn) {
  if (!state.local) return;
  for (const t of state.local.getTracks()) if (t.kind === kind) t.enabled = !t.enabled;
  const on = state.local.getTracks().some((t) => t.kind === kind && t.enabled);
  btn.classList.toggle('off', !on);
  const p = [...state.client.myProducers.values()].find((x) => x.kind === kind && x.source !== 'screen');
  if (p) (on ? state.client.resumeProducer(p.producerId) : state.client.pauseProducer(p.producerId)).catch(() => {});
}

async function toggleScreen() {
  const client = state.client;
  if (state.screen) {
    for (const p of [...client.myProducers.values()]) if (p.source === 'screen') await client.unpublish(p.producerId);
    state.screen.getTracks().forEach((t) => t.stop());
    state.screen = null;
    removeTile('me:screen');
    $('screen-btn').classList.remove('off');
    return;
  }
  try {
    state.screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (e) {
    toast(explain(e));
    return;
  }
  const tile = tileFor('me:screen', 'Your screen');
  tile.querySelector('video').srcObject = state.screen;
  tile.querySelector('.placeholder').hidden = true;
  state.screen.getVideoTracks()[0].addEventListener('ended', () => { if (state.screen) toggleScreen(); });
  await client.publish(state.screen, { simulcast: false, source: 'screen' });
  $('screen-btn').classList.add('off');
}

$('join-form').addEventListener('submit', join);
$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.data.sendChat($('chat-input').value.trim());
  $('chat-input').value = '';
});
$('file-input').addEventListener('change', () => {
  const f = $('file-input').files[0];
  if (f) state.data.sendFile(f).catch((e) => toast(`File not sent: ${e.message}`));
  $('file-input').value = '';
});
$('mic-btn').onclick = () => toggleTrack('audio', $('mic-btn'));
$('cam-btn').onclick = () => toggleTrack('video', $('cam-btn'));
$('screen-btn').onclick = toggleScreen;
$('stats-btn').onclick = () => document.body.classList.toggle('show-stats');
$('leave-btn').onclick = async () => {
  state.ended = true;
  clearInterval(state.statsTimer);
  await state.client.leave();
  location.href = '/';
};
window.addEventListener('pagehide', () => {
  state.ended = true;
  if (state.client) state.client.close();
});
if (params.get('autojoin') === '1') $('join-form').requestSubmit();
