// The demo page's data channels: a chat, and file transfer to everyone in
// the room. Each peer publishes two channels through the SFU ("chat",
// "file"); every other peer receives them as channels whose `protocol` is
// the sender's peerId.
//
// File protocol on the "file" channel (ordered, reliable):
//   string {"type":"start","id","name","size","sha256"} — then binary chunks
//   of 16 KiB — then string {"type":"end","id"}. The sender waits for
//   `bufferedamountlow` whenever more than HIGH_WATER bytes are queued; the
//   receiver checks the size and the SHA-256 of what arrived.

export const CHUNK = 16 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

export function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256(buffer) {
  if (!crypto.subtle) return null;  // not a secure context (plain http to a non-local host)
  return hex(await crypto.subtle.digest('SHA-256', buffer));
}

export class DataUi {
  // hooks: {peerName(peerId), myName(), toast(text)}; els: the page's elements.
  constructor(client, hooks, els) {
    this.client = client;
    this.hooks = hooks;
    this.els = els;
    this.chat = null;
    this.file = null;
    this.log = [];     // {from, text, mine}
    this.files = [];   // received: {from, name, size, sha256, expected, verified, ms}
    this.sent = [];    // sent: {name, size, sha256, ms}
    this.incoming = new Map(); // channel -> transfer in progress
    this.channels = [];        // received channels: {label, peerId, channel}
    this.attach(client);
  }

  // A new session (after a reconnect): the chat log and transfers stay,
  // the channels are the new client's.
  attach(client) {
    this.client = client;
    this.chat = null;
    this.file = null;
    this.incoming = new Map();
    this.channels = [];
    client.addEventListener('dataChannel', ({ detail }) => this.onChannel(detail));
  }

  async open() {
    [this.chat, this.file] = await Promise.all([
      this.client.openDataChannel('chat'),
      this.client.openDataChannel('file'),
    ]);
    this.file.bufferedAmountLowThreshold = LOW_WATER;
    this.els.chatInput.disabled = false;
    this.els.chatSend.disabled = false;
    this.els.fileInput.disabled = false;
  }

  sendChat(text) {
    if (!text || !this.chat || this.chat.readyState !== 'open') return;
    this.chat.send(text);
    this.addChat(this.hooks.myName(), text, true);
  }

  addChat(from, text, mine) {
    this.log.push({ from, text, mine });
    const li = document.createElement('li');
    if (mine) li.className = 'mine';
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = from;
    li.append(who, document.createTextNode(text));
    this.els.chatLog.appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  transferRow(label) {
    const li = document.createElement('li');
    const name = document.createElement('div');
    name.textContent = label;
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    const status = document.createElement('div');
    status.className = 'status';
    li.append(name, bar, status);
    this.els.transfers.prepend(li);
    return { li, bar, status };
  }

  async sendFile(file) {
    const ch = this.file;
    if (!ch || ch.readyState !== 'open') return;
    const buffer = await file.arrayBuffer();
    const digest = await sha256(buffer);
    const id = Math.random().toString(36).slice(2);
    const row = this.transferRow(`↑ ${file.name} (${(file.size / 1e6).toFixed(2)} MB)`);
    const t0 = performance.now();
    ch.send(JSON.stringify({ type: 'start', id, name: file.name, size: buffer.byteLength, sha256: digest }));
    for (let off = 0; off < buffer.byteLength; off += CHUNK) {
      if (ch.bufferedAmount > HIGH_WATER) {
        await new Promise((resolve) => ch.addEventListener('bufferedamountlow', resolve, { once: true }));
      }
      if (ch.readyState !== 'open') {
        row.status.textContent = 'channel closed';
        row.status.className = 'status bad';
        return;
      }
      ch.send(new Uint8Array(buffer, off, Math.min(CHUNK, buffer.byteLength - off)));
      row.bar.value = Math.min(1, (off + CHUNK) / Math.max(1, buffer.byteLength));
    }
    ch.send(JSON.stringify({ type: 'end', id }));
    const ms = performance.now() - t0;
    row.bar.value = 1;
    row.status.textContent = `sent in ${(ms / 1000).toFixed(1)} s`;
    this.sent.push({ name: file.name, size: buffer.byteLength, sha256: digest, ms });
  }

  onChannel({ channel, peerId, label }) {
    this.channels.push({ label, peerId, channel });
    if (label === 'chat') {
      channel.onmessage = (e) => {
        if (typeof e.data === 'string') this.addChat(this.hooks.peerName(peerId), e.data, false);
      };
    } else if (label === 'file') {
      channel.onmessage = (e) => this.onFileMessage(channel, peerId, e.data);
    }
  }

  onFileMessage(channel, peerId, data) {
    if (typeof data !== 'string') {
      const t = this.incoming.get(channel);
      if (!t) return;
      t.chunks.push(data);
      t.received += data.byteLength;
      t.row.bar.value = t.size ? Math.min(1, t.received / t.size) : 1;
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.type === 'start' && typeof msg.name === 'string' && Number.isSafeInteger(msg.size)) {
      const from = this.hooks.peerName(peerId);
      this.incoming.set(channel, {
        id: msg.id, name: msg.name, size: msg.size, expected: msg.sha256, from, chunks: [], received: 0,
        t0: performance.now(), row: this.transferRow(`↓ ${msg.name} from ${from}`),
      });
    } else if (msg.type === 'end') {
      const t = this.incoming.get(channel);
      if (!t || t.id !== msg.id) return;
      this.incoming.delete(channel);
      this.finish(t);
    }
  }

  async finish(t) {
    const ms = performance.now() - t.t0;
    const blob = new Blob(t.chunks);
    const digest = await sha256(await blob.arrayBuffer());
    const verified = t.received === t.size && digest !== null && digest === t.expected;
    this.files.push({ from: t.from, name: t.name, size: t.received, sha256: digest, expected: t.expected, verified, ms });
    t.row.bar.value = 1;
    t.row.status.className = `status ${verified ? 'ok' : 'bad'}`;
    const rate = (t.received / 1e6 / (ms / 1000)).toFixed(1);
    t.row.status.textContent = verified
      ? `SHA-256 verified, ${rate} MB/s `
      : (digest === null ? 'received (not verified: needs https or localhost) ' : 'CORRUPT: SHA-256 mismatch ');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = t.name;
    a.textContent = 'save';
    t.row.status.appendChild(a);
  }
}
