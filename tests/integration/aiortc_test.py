#!/usr/bin/env python3
"""aiortc (an independent WebRTC stack: aioice, pyOpenSSL DTLS, its own
SCTP, libvpx/libopus) as publisher and subscriber against the real binary,
with a client written from shared/PROTOCOL.md on top of sfu_client.py:

1. aiortc publisher -> aiortc subscriber: audio and video decoded, data
   channel messages (string, binary, empty, a byte-exact 1 MiB transfer)
   delivered on the channel the server opens (label, protocol = sender).
2. aiortc negotiates REMB + abs-send-time, not transport-cc: the
   subscriber's video must keep its rate for 10 s all the same.
3. A publisher joining later reaches an existing subscriber (a re-offer
   with new m-sections).
4. A publisher leaving: the subscriber applies the offer with its sections
   at port 0 and keeps receiving the other publisher.
Each subscriber also checks that no receiver got RTP of an SSRC its offer
did not list (aiortc routes unknown SSRCs by payload type, not MID).

aiortc 1.4's own quirks are worked around here, never in the server (each
marked "aiortc quirk"). Needs Debian's python3-aiortc, so run it with
Debian's interpreter:

usage: /usr/bin/python3 aiortc_test.py PATH_TO_SFU
"""
import asyncio
import collections
import hashlib
import os
import sys
import time
import unittest

import aioice.ice
import av
import numpy
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

SFU = None
WIDTH, HEIGHT = 640, 360
MIN_FPS = 15  # the source sends 30; half of it still counts as flowing

# aiortc quirk: aioice 0.8 leaves 127.0.0.1 out of host gathering; gather on loopback only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def rtc_config():
    # No iceServers: aiortc would otherwise add stun.l.google.com by default.
    return RTCConfiguration(iceServers=[])


async def until(predicate, timeout, what):
    """Polls predicate() until it holds; AssertionError naming `what` (a
    string, or a callable describing the state then) after timeout s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what() if callable(what) else what} within {timeout} s")
        await asyncio.sleep(0.05)


# --- Media sources ----------------------------------------------------------


class MovingPattern(VideoStreamTrack):
    """640x360 at 30 fps (VideoStreamTrack's clock): a bright bar sweeping
    over a diagonal gradient, so every frame differs."""

    def __init__(self):
        super().__init__()
        self.n = 0
        self.background = ((numpy.arange(WIDTH)[None, :] + numpy.arange(HEIGHT)[:, None]) % 256).astype(numpy.uint8)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        yuv = numpy.full((HEIGHT * 3 // 2, WIDTH), 128, numpy.uint8)  # I420: Y plane, then U and V
        yuv[:HEIGHT] = self.background
        x = (self.n * 8) % (WIDTH - 40)
        yuv[:HEIGHT, x:x + 40] = 235
        self.n += 1
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """AudioStreamTrack's 20 ms frames, a 440 Hz tone instead of silence."""

    async def recv(self):
        frame = await super().recv()
        t = (frame.pts + numpy.arange(frame.samples)) / frame.sample_rate
        pcm = (numpy.sin(2 * numpy.pi * 440 * t) * 8000).astype("<i2").tobytes()
        plane = frame.planes[0]
        plane.update(pcm + bytes(plane.buffer_size - len(pcm)))
        return frame


# --- The client -------------------------------------------------------------


class Received:
    """What one subscribed track delivered: the arrival time of each decoded
    frame, video frame sizes, the loudest audio sample."""

    def __init__(self, kind, mid, consumer):
        self.kind, self.mid, self.consumer = kind, mid, consumer
        self.times = []
        self.sizes = collections.Counter()
        self.peak = 0

    def count(self, since=0.0, until_=float("inf")):
        return sum(1 for t in self.times if since <= t < until_)

    def fps(self, since, until_):
        return self.count(since, until_) / (until_ - since)


class Participant:
    """One peer: its signaling session, an aiortc publisher connection (once
    it publishes) and an aiortc subscriber connection that answers every
    subscriberOffer."""

    def __init__(self, client, name):
        self.client, self.name = client, name
        self.pub = self.sub = self.channel = None
        self.offer_consumers = {}  # mid -> consumer, from the latest subscriberOffer
        self.tracks = {}  # mid -> Received
        self.offered_ssrcs = collections.defaultdict(set)  # mid -> every SSRC an offer listed for it
        self.seen_ssrcs = collections.defaultdict(set)  # mid -> every SSRC its receiver got packets from
        self.inbox = {}  # data channel the server opened -> its messages
        self.answered = 0
        self.last_offer = self.last_answer = None
        self.errors = []
        self.tasks = []
        self._negotiation = asyncio.Lock()
        client.on_notification = self._on_notification

    @classmethod
    async def join(cls, port, room, name):
        me = cls(await sfu_client.Client.connect(port), name)  # handler set before the join reply
        await me.client.join(room, name=name)
        return me

    @property
    def peer_id(self):
        return self.client.peer_id

    def _spawn(self, coro):
        self.tasks.append(asyncio.get_running_loop().create_task(coro))

    # Publishing

    async def publish(self, timeout=10.0):
        """Audio + video + a reliable ordered data channel 'chat'; returns the producers."""
        self.pub = RTCPeerConnection(rtc_config())
        self.pub._sctpLegacySdp = False  # aiortc quirk: offers pre-RFC 8841 `DTLS/SCTP 5000` + a=sctpmap otherwise
        self.pub.addTransceiver(Tone(), direction="sendonly")
        self.pub.addTransceiver(MovingPattern(), direction="sendonly")
        # aiortc quirk: its FORWARD-TSN handling drops fragments of reliable
        # messages on other streams, so only reliable ordered channels here.
        self.channel = self.pub.createDataChannel("chat")
        await self.pub.setLocalDescription(await self.pub.createOffer())
        result = await self.client.request("publish", {"sdp": self.pub.localDescription.sdp}, timeout=timeout)
        await self.pub.setRemoteDescription(RTCSessionDescription(sdp=result["sdp"], type="answer"))
        await until(lambda: self.pub.connectionState == "connected", timeout, f"{self.name}: publisher connected")
        await until(lambda: self.channel.readyState == "open", timeout, f"{self.name}: data channel open")
        return result["producers"]

    # Subscribing

    def _on_notification(self, msg):
        if msg["method"] == "subscriberOffer":
            self._spawn(self._answer(msg["params"]))

    async def _answer(self, params):
        async with self._negotiation:
            try:
                if self.sub is None:
                    self.sub = RTCPeerConnection(rtc_config())
                    self.sub.on("track", self._on_track)
                    self.sub.on("datachannel", self._on_datachannel)
                    self._spawn(self._watch_ssrcs())
                self.offer_consumers = {c["mid"]: c for c in params["consumers"]}
                for c in params["consumers"]:
                    self.offered_ssrcs[c["mid"]] |= {int(l.split()[0][7:]) for l in section(params["sdp"], c["mid"])
                                                     if l.startswith("a=ssrc:")}
                await self.sub.setRemoteDescription(RTCSessionDescription(sdp=params["sdp"], type="offer"))
                await self.sub.setLocalDescription(await self.sub.createAnswer())
                self.last_offer, self.last_answer = params["sdp"], self.sub.localDescription.sdp
                await self.client.request("subscriberAnswer", {"sdp": self.last_answer}, timeout=10)
                self.answered += 1
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                self.errors.append(f"{self.name}: answering subscriberOffer {self.answered + 1}: {e!r}")

    def _on_track(self, track):
        mid = next(t.mid for t in self.sub.getTransceivers() if t.receiver.track is track)
        received = self.tracks[mid] = Received(track.kind, mid, self.offer_consumers.get(mid))
        self._spawn(self._read(track, received))

    async def _read(self, track, received):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            received.times.append(time.monotonic())
            if received.kind == "video":
                received.sizes[(frame.width, frame.height)] += 1
            else:
                received.peak = max(received.peak, int(numpy.abs(frame.to_ndarray()).max()))

    async def _watch_ssrcs(self):
        # aiortc 1.4 routes RTP by SSRC, and a packet of an unknown SSRC to the
        # only receiver with its payload type (never by MID): RTP sent before
        # the offer is applied lands in another consumer's decoder. Record it.
        while True:
            for t in self.sub.getTransceivers():
                self.seen_ssrcs[t.mid] |= {s.source for s in t.receiver.getSynchronizationSources()}
            await asyncio.sleep(0.5)

    def misrouted(self):
        """{mid: SSRCs its receiver got that no offer listed for that mid}."""
        return {mid: sorted(seen - self.offered_ssrcs[mid]) for mid, seen in self.seen_ssrcs.items()
                if seen - self.offered_ssrcs[mid]}

    def _on_datachannel(self, channel):
        messages = self.inbox[channel] = []
        channel.on("message", messages.append)

    def track_from(self, peer_id, kind):
        """The Received of the live consumer of peer_id's `kind` producer, or None."""
        for mid, c in self.offer_consumers.items():
            if c["peerId"] == peer_id and c["kind"] == kind and mid in self.tracks:
                return self.tracks[mid]
        return None

    def frames_from(self, peer_id, kind):
        received = self.track_from(peer_id, kind)
        return received.count() if received else 0

    def channel_from(self, peer_id, label="chat"):
        return next((ch for ch in self.inbox if ch.label == label and ch.protocol == peer_id), None)

    async def wait_video_from(self, peer, frames=30, timeout=15.0):
        """Waits for `frames` decoded video frames from peer; returns its Received.
        aiortc quirk: it sends no PLI when it cannot decode (and its encoder
        makes a keyframe every 3000 frames), so a consumer that starts on a
        delta frame shows nothing until the server asks for a keyframe. Not
        papered over here: that request is the server's job."""
        def state():
            got = self.frames_from(peer.peer_id, "video")
            layers = [n["params"] for _, n in self.client.notifications if n["method"] == "consumerLayersChanged"]
            return (f"{frames} decoded video frames from {peer.name} at {self.name} (got {got}; subscriber "
                    f"{self.sub and self.sub.connectionState}, offers answered {self.answered}, errors {self.errors}, "
                    f"consumerLayersChanged {[(l['spatialLayer'], l['temporalLayer']) for l in layers]}, "
                    f"misrouted SSRCs {self.misrouted()})")

        await until(lambda: self.frames_from(peer.peer_id, "video") >= frames, timeout, state)
        return self.track_from(peer.peer_id, "video")

    async def bytes_received(self):
        """Bytes the subscriber connection received so far (aiortc's transport stats)."""
        stats = await self.sub.getStats()
        return max((s.bytesReceived for s in stats.values() if s.type == "transport"), default=0)

    async def server_view(self):
        """The server's side, from getStats: the subscriber transport's
        availableOutgoingBitrate and each video consumer's layers and packets."""
        stats = await self.client.request("getStats", timeout=5)
        sub = next((t for t in stats["transports"] if t["direction"] == "subscriber"), {})
        video = {c["consumerId"] for c in self.offer_consumers.values() if c["kind"] == "video"}
        layers = [(c["currentLayers"]["spatial"], c["currentLayers"]["temporal"], c["packets"])
                  for c in stats["consumers"] if c["consumerId"] in video]
        return f"estimate {sub.get('availableOutgoingBitrate')} bit/s, video consumers (s, t, packets) {layers}"

    async def close(self):
        for task in self.tasks:
            task.cancel()
        for pc in (self.pub, self.sub):
            if pc is not None:
                try:
                    await asyncio.wait_for(pc.close(), 5)
                except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing is best effort
                    pass
        if not self.client.closed.is_set():
            await self.client.close_clean()


def section(sdp, mid):
    """The lines of the m-section with a=mid:<mid>."""
    return next(s for s in sfu_client.split_sections(sdp) if f"a=mid:{mid}" in s)


async def measure(sub, received, seconds):
    """Decoded fps and bytes/s received over the next `seconds`."""
    t0, b0 = time.monotonic(), await sub.bytes_received()
    await asyncio.sleep(seconds)
    t1, b1 = time.monotonic(), await sub.bytes_received()
    return received.fps(t0, t1), (b1 - b0) / (t1 - t0)


# --- Tests ------------------------------------------------------------------


class AiortcTest(unittest.TestCase):
    def setUp(self):
        self.sfu = sfu_client.start_sfu(SFU)
        self.peers = []

    def tearDown(self):
        if self.sfu.alive():
            self.sfu.stop()

    def run_async(self, scenario):
        async def run():
            try:
                await asyncio.wait_for(scenario(), 90)
            finally:
                for p in self.peers:
                    await p.close()

        asyncio.run(run())
        self.assertTrue(self.sfu.alive(), self.sfu.log_tail())

    async def join(self, name, room="aiortc"):
        p = await Participant.join(self.sfu.port, room, name)
        self.peers.append(p)
        return p

    def check_subscriber(self, s):
        self.assertEqual(s.errors, [])
        self.assertEqual(s.client.counts["kicked"], 0)
        self.assertEqual(s.misrouted(), {}, "RTP of SSRCs the offer did not list for that mid "
                         "(sent before the offer was answered?)")

    def test_1_media_and_data_between_aiortc_peers(self):
        async def scenario():
            alice = await self.join("alice")
            producers = await alice.publish()
            self.assertEqual(sorted(p["kind"] for p in producers), ["audio", "video"])
            sam = await self.join("sam")  # joins an ongoing call
            # The server's channel: same label, protocol = the sender's peerId.
            await sam.client.wait_for("dataConsumerAdded", lambda p: p["peerId"] == alice.peer_id, timeout=10)
            await until(lambda: sam.channel_from(alice.peer_id) is not None, 10,
                        lambda: f"data channel 'chat' with protocol {alice.peer_id} at sam (got "
                        f"{[(c.label, c.protocol) for c in sam.inbox]})")
            relayed = sam.channel_from(alice.peer_id)
            self.assertEqual((relayed.ordered, relayed.maxRetransmits, relayed.maxPacketLifeTime), (True, None, None))
            inbox = sam.inbox[relayed]
            small = ["hello ✓", b"\x00\x01\x02\xff", "", b""]
            blob = os.urandom(1 << 20)
            chunks = [blob[i:i + 16384] for i in range(0, len(blob), 16384)]
            start = time.monotonic()
            for m in small + chunks + ["done"]:
                alice.channel.send(m)
            total = len(small) + len(chunks) + 1
            await until(lambda: len(inbox) >= total, 30,
                        lambda: f"{total} data channel messages at sam (got {len(inbox)})")
            elapsed = time.monotonic() - start
            print(f"\n[1] data: {len(inbox)} messages, 1 MiB in {elapsed:.2f} s "
                  f"({len(blob) / elapsed / 1000:.0f} kB/s)")
            self.assertEqual([(type(m), m) for m in inbox[:len(small)]], [(type(m), m) for m in small])
            got = inbox[len(small):-1]
            self.assertTrue(all(isinstance(m, bytes) for m in got))
            self.assertEqual([len(m) for m in got], [len(c) for c in chunks])
            self.assertEqual(hashlib.sha256(b"".join(got)).hexdigest(), hashlib.sha256(blob).hexdigest())
            self.assertEqual(inbox[-1], "done")

            # Media: both kinds decoded, the tone audible, the video at its rate and size.
            video = await sam.wait_video_from(alice)
            await until(lambda: sam.frames_from(alice.peer_id, "audio") >= 25,
                        10, "25 decoded audio frames from alice")
            audio = sam.track_from(alice.peer_id, "audio")
            fps, rate = await measure(sam, video, 3)
            audio_fps = audio.count(time.monotonic() - 3, time.monotonic()) / 3
            print(f"[1] video {video.count()} frames, {fps:.1f} fps, sizes {dict(video.sizes)}; "
                  f"audio {audio.count()} frames, {audio_fps:.1f} frames/s, peak {audio.peak}; "
                  f"{rate * 8 / 1000:.0f} kbit/s received")
            self.assertGreaterEqual(fps, MIN_FPS, "alice's video fps at sam")
            self.assertEqual(set(video.sizes), {(WIDTH, HEIGHT)})
            self.assertGreaterEqual(audio_fps, 40)  # 50 frames of 20 ms per second
            self.assertGreater(audio.peak, 2000, "the tone did not come through")
            self.check_subscriber(sam)

        self.run_async(scenario)

    def test_2_video_keeps_its_rate_without_transport_cc(self):
        async def scenario():
            sam = await self.join("sam")
            alice = await self.join("alice")
            await alice.publish()
            await until(lambda: sam.answered and sam.track_from(alice.peer_id, "video"), 10, "sam's first answer")
            # The premise: aiortc's answer has REMB and abs-send-time, no transport-cc.
            answer = section(sam.last_answer, sam.track_from(alice.peer_id, "video").mid)
            self.assertTrue(any("abs-send-time" in l for l in answer if l.startswith("a=extmap:")), answer)
            self.assertTrue(any(l.endswith(" goog-remb") for l in answer if l.startswith("a=rtcp-fb:")), answer)
            self.assertFalse(any("transport-wide-cc" in l or "transport-cc" in l for l in answer), answer)
            video = await sam.wait_video_from(alice)
            samples = []
            for _ in range(5):  # 10 s in 2 s steps
                fps, rate = await measure(sam, video, 2)
                samples.append(fps)
                print(f"\n[2] {fps:4.1f} fps, widths {sorted({w for w, h in video.sizes})}, "
                      f"{rate * 8 / 1000:5.0f} kbit/s received; server: {await sam.server_view()}", end="")
            print()
            self.assertGreaterEqual(sum(samples) / len(samples), MIN_FPS, f"video fps per 2 s: {samples}")
            self.assertGreaterEqual(min(samples), MIN_FPS / 2, f"video stalled in a 2 s window: {samples}")
            self.assertEqual(set(video.sizes), {(WIDTH, HEIGHT)})
            self.check_subscriber(sam)

        self.run_async(scenario)

    def test_3_later_publisher_reaches_existing_subscriber(self):
        async def scenario():
            sam = await self.join("sam")
            alice = await self.join("alice")
            await alice.publish()
            alice_video = await sam.wait_video_from(alice)
            answered = sam.answered
            bob = await self.join("bob")
            await bob.publish()
            await sam.client.wait_for("subscriberOffer", timeout=5,
                                      pred=lambda p: any(c["peerId"] == bob.peer_id for c in p["consumers"]))
            await until(lambda: sam.answered > answered or sam.errors, 10, "sam's answer to the re-offer")
            self.assertEqual(sam.errors, [])
            bob_video = await sam.wait_video_from(bob, timeout=10)
            await until(lambda: sam.frames_from(bob.peer_id, "audio") >= 25,
                        10, "25 decoded audio frames from bob")
            now = time.monotonic()
            fps_bob, rate = await measure(sam, bob_video, 3)
            fps_alice = alice_video.fps(now, time.monotonic())
            print(f"\n[3] bob: video {bob_video.count()} frames, {fps_bob:.1f} fps, sizes {dict(bob_video.sizes)}, "
                  f"audio {sam.track_from(bob.peer_id, 'audio').count()} frames; alice meanwhile {fps_alice:.1f} fps; "
                  f"{rate * 8 / 1000:.0f} kbit/s received")
            self.assertGreaterEqual(fps_bob, MIN_FPS, "bob's video fps at sam")
            self.assertGreaterEqual(fps_alice, MIN_FPS, "alice's video fps at sam once bob came")
            self.assertEqual(set(bob_video.sizes), {(WIDTH, HEIGHT)})
            # bob's data channel reaches sam too
            await until(lambda: sam.channel_from(bob.peer_id) is not None, 10, "bob's data channel at sam")
            bob.channel.send("hi from bob")
            inbox = sam.inbox[sam.channel_from(bob.peer_id)]
            await until(lambda: inbox, 5, "bob's message at sam")
            self.assertEqual(inbox, ["hi from bob"])
            self.check_subscriber(sam)

        self.run_async(scenario)

    def test_4_publisher_leaving(self):
        async def scenario():
            sam = await self.join("sam")
            bob = await self.join("bob")  # stays
            await bob.publish()
            bob_video = await sam.wait_video_from(bob)
            alice = await self.join("alice")  # leaves
            await alice.publish()
            await until(lambda: sam.track_from(alice.peer_id, "video") and sam.channel_from(alice.peer_id), 10,
                        "alice's video section and data channel at sam")
            await until(lambda: sam.frames_from(alice.peer_id, "audio") >= 10, 10, "alice's audio at sam")
            alice_tracks = [sam.track_from(alice.peer_id, k) for k in ("audio", "video")]
            alice_channel = sam.channel_from(alice.peer_id)
            answered = sam.answered
            await alice.client.request("leave")
            await alice.client.wait_closed()
            await alice.close()  # its connections too, as a client that left does
            left = time.monotonic()
            await sam.client.wait_for("subscriberOffer", timeout=5,
                                      pred=lambda p: all(c["peerId"] != alice.peer_id for c in p["consumers"]))
            await until(lambda: sam.answered > answered or sam.errors, 10, "sam's answer to the removal offer")
            self.assertEqual(sam.errors, [])
            for t in alice_tracks:
                self.assertEqual(section(sam.last_offer, t.mid)[0].split()[1], "0", f"alice's mid {t.mid} not port 0")
            self.assertEqual(sam.sub.signalingState, "stable")
            fps, rate = await measure(sam, bob_video, 4)
            late = [t.count(left + 1.0) for t in alice_tracks]
            print(f"\n[4] after alice left: bob {fps:.1f} fps, sizes {dict(bob_video.sizes)}, "
                  f"{rate * 8 / 1000:.0f} kbit/s received; alice's frames before/after leaving "
                  f"{[t.count(0, left) for t in alice_tracks]}/{late}")
            self.assertGreaterEqual(fps, MIN_FPS, "bob's video fps at sam after alice left")
            self.assertEqual(late, [0, 0], "frames of a removed consumer")
            await sam.client.wait_for("dataConsumerRemoved", lambda p: p["peerId"] == alice.peer_id, timeout=5)
            await until(lambda: alice_channel.readyState == "closed", 5, "alice's data channel closed at sam")
            self.check_subscriber(sam)

        self.run_async(scenario)


if __name__ == "__main__":
    SFU = sys.argv.pop(1)
    unittest.main(verbosity=2)
