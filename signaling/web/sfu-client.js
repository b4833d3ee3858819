// A browser client of the SFU's signaling protocol (PROTOCOL.md): JSON-RPC
// over a WebSocket, a publisher RTCPeerConnection that the client offers, and
// a subscriber RTCPeerConnection that the server offers. No SDP munging.
//
//   const c = new SfuClient({ url, room, name, token });
//   c.addEventListener('track', e => ...);   // {peerId, consumerId, kind, track, stream}
//   await c.join();
//   await c.publish(stream, { simulcast: true });
//   const chat = await c.openDataChannel('chat');      // a data producer (DCEP, in-band)
//   c.addEventListener('dataChannel', e => ...);       // {channel, peerId, label}: another peer's producer

export class RpcError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.code;
    this.reason = error.data && error.data.reason;
    this.data = error.data;
  }
}

const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export class SfuClient extends EventTarget {
  constructor({ url, room, name, token, autoSubscribe = true }) {
    super();
    this.url = url;
    this.room = room;
    this.name = name;
    this.token = token;
    this.autoSubscribe = autoSubscribe;
    this.nextId = 1;
    this.pending = new Map();
    this.peers = new Map();      // peerId -> {peerId, name}
    this.producers = new Map();  // producerId -> producer info
    this.consumers = new Map();  // mid -> {consumerId, producerId, peerId, kind}
    this.myProducers = new Map(); // mid -> {producerId, kind, source, sender}
    this.publisher = null;
    this.subscriber = null;
    this.negotiating = Promise.resolve();
    this.publishing = Promise.resolve(); // publisher offers, one at a time
    this.publisherHasData = false;        // the publisher PC negotiated m=application
    this.dataProducers = new Map();       // dataProducerId -> {dataProducerId, peerId, label}
  }

  // Opens the socket and joins the room. Resolves with the join result.
  async join() {
    const qs = new URLSearchParams({ room: this.room });
    if (this.token) qs.set('token', this.token);
    const wsUrl = `${this.url}?${qs}`;
    this.ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error('cannot reach the server'));
    });
    this.ws.onmessage = (e) => this.onMessage(e.data);
    this.ws.onclose = (e) => {
      for (const { reject } of this.pending.values()) reject(new Error('connection closed'));
      this.pending.clear();
      this.emit('closed', { code: e.code, reason: e.reason });
    };
    const params = { room: this.room, autoSubscribe: this.autoSubscribe };
    if (this.name) params.name = this.name;
    if (this.token) params.token = this.token;
    this.joinSentAt = performance.now();  // for join -> first frame measurements
    const result = await this.request('join', params);
    this.peerId = result.peerId;
    for (const p of result.peers) this.peers.set(p.peerId, p);
    for (const p of result.producers) this.producers.set(p.producerId, p);
    for (const d of result.dataProducers || []) this.dataProducers.set(d.dataProducerId, d);
    return result;
  }

  request(method, params = {}) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  onMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.id !== undefined && msg.id !== null && this.pending.has(msg.id)) {
      const { resolve, reject } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(new RpcError(msg.error));
      else resolve(msg.result);
      return;
    }
    if (!msg.method) return;
    const p = msg.params || {};
    switch (msg.method) {
      case 'peerJoined': this.peers.set(p.peerId, p); break;
      case 'peerLeft': this.peers.delete(p.peerId); break;
      case 'producerAdded': this.producers.set(p.producerId, p); break;
      case 'producerRemoved': this.producers.delete(p.producerId); break;
      case 'dataProducerAdded': this.dataProducers.set(p.dataProducerId, p); break;
      case 'dataProducerRemoved': this.dataProducers.delete(p.dataProducerId); break;
      case 'subscriberOffer':
        this.negotiating = this.negotiating.then(() => this.onSubscriberOffer(p)).catch((e) => this.emit('error', e));
        break;
    }
    this.emit(msg.method, p);
  }

  ensurePublisher() {
    if (this.publisher) return this.publisher;
    this.publisher = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.publisher.onconnectionstatechange = () =>
      this.emit('publisherState', { state: this.publisher.connectionState });
    return this.publisher;
  }

  // Runs fn after the publisher negotiations before it (offers never overlap).
  serialisePublish(fn) {
    const run = this.publishing.then(fn, fn);
    this.publishing = run.catch(() => {});
    return run;
  }

  // Publishes the tracks of `stream` (camera/mic or a screen capture).
  publish(stream, options = {}) {
    return this.serialisePublish(() => this.publishNow(stream, options));
  }

  // Opens a data channel on the publisher connection: a data producer that
  // every other peer receives as a channel with the same label whose
  // `protocol` is our peerId. Options as for createDataChannel (ordered,
  // maxRetransmits, maxPacketLifeTime). Resolves once the channel is open.
  openDataChannel(label, options = {}) {
    return this.serialisePublish(async () => {
      const pc = this.ensurePublisher();
      const channel = pc.createDataChannel(label, options);
      channel.binaryType = 'arraybuffer';
      if (!this.publisherHasData) {
        // The first channel adds the m=application section: offer again.
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        let result;
        try {
          result = await this.request('publish', { sdp: pc.localDescription.sdp, sources: {} });
        } catch (e) {
          // A first publish the token forbids is 4003 (PROTOCOL.md): undo the offer.
          await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
          channel.close();
          if (e instanceof RpcError && e.code === 4003) throw new Error('the server refused data channels (publishData grant?)');
          throw e;
        }
        await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
        const rejected = /m=application 0 /.test(result.sdp);
        if (rejected) throw new Error('the server refused data channels (publishData grant?)');
        this.publisherHasData = true;
      }
      if (channel.readyState !== 'open') {
        await new Promise((resolve, reject) => {
          channel.addEventListener('open', resolve, { once: true });
          channel.addEventListener('close', () => reject(new Error('data channel closed')), { once: true });
        });
      }
      return channel;
    });
  }

  async publishNow(stream, { simulcast = true, source } = {}) {
    this.ensurePublisher();
    const added = [];
    for (const track of stream.getTracks()) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (track.kind === 'video' && simulcast) init.sendEncodings = SIMULCAST_ENCODINGS.map((e) => ({ ...e }));
      const t = this.publisher.addTransceiver(track, init);
      added.push({ transceiver: t, track });
    }
    const offer = await this.publisher.createOffer();
    await this.publisher.setLocalDescription(offer);
    const sources = {};
    for (const { transceiver, track } of added) {
      sources[transceiver.mid] = source
        ? (track.kind === 'audio' ? 'screenAudio' : source)
        : (track.kind === 'audio' ? 'microphone' : 'camera');
    }
    const result = await this.request('publish', { sdp: this.publisher.localDescription.sdp, sources });
    await this.publisher.setRemoteDescription({ type: 'answer', sdp: result.sdp });
    if (/m=application [1-9]/.test(result.sdp)) this.publisherHasData = true;
    for (const p of result.producers) {
      const t = added.find((a) => a.transceiver.mid === p.mid);
      this.myProducers.set(p.mid, { ...p, sender: t && t.transceiver.sender, track: t && t.track });
    }
    return result.producers;
  }

  // Stops publishing one producer (e.g. screen share ended).
  async unpublish(producerId) {
    for (const [mid, p] of this.myProducers) {
      if (p.producerId !== producerId) continue;
      const t = this.publisher.getTransceivers().find((x) => x.mid === mid);
      if (t) t.stop();
      this.myProducers.delete(mid);
      await this.request('closeProducer', { producerId });
    }
  }

  async onSubscriberOffer({ sdp, consumers }) {
    if (!this.subscriber) {
      this.subscriber = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      this.subscriber.ontrack = (e) => this.onTrack(e);
      this.subscriber.ondatachannel = (e) => {
        e.channel.binaryType = 'arraybuffer';
        this.emit('dataChannel', { channel: e.channel, peerId: e.channel.protocol, label: e.channel.label });
      };
      this.subscriber.onconnectionstatechange = () =>
        this.emit('subscriberState', { state: this.subscriber.connectionState });
    }
    const previous = new Map(this.consumers);
    this.consumers = new Map(consumers.map((c) => [c.mid, c]));
    for (const [mid, c] of previous) {
      if (!this.consumers.has(mid)) this.emit('consumerClosed', c);
    }
    await this.subscriber.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.subscriber.createAnswer();
    await this.subscriber.setLocalDescription(answer);
    await this.request('subscriberAnswer', { sdp: this.subscriber.localDescription.sdp });
  }

  onTrack(e) {
    const mid = e.transceiver.mid;
    const c = this.consumers.get(mid);
    if (!c) return;
    const stream = new MediaStream([e.track]);
    this.emit('track', { ...c, track: e.track, stream });
  }

  setPreferredLayers(consumerId, spatialLayer, temporalLayer) {
    const params = { consumerId, spatialLayer };
    if (temporalLayer !== undefined) params.temporalLayer = temporalLayer;
    return this.request('setPreferredLayers', params);
  }

  pauseProducer(producerId) { return this.request('pauseProducer', { producerId }); }
  resumeProducer(producerId) { return this.request('resumeProducer', { producerId }); }
  getStats() { return this.request('getStats'); }

  async leave() {
    try {
      await this.request('leave');
    } catch {
      // the socket may already be gone
    }
    this.close();
  }

  close() {
    if (this.publisher) this.publisher.close();
    if (this.subscriber) this.subscriber.close();
    if (this.ws && this.ws.readyState <= 1) this.ws.close();
  }
}
