"""A small signaling client for loopback tests, written from the wire contract
(shared/PROTOCOL.md) alone: an RFC 6455 WebSocket over asyncio streams, the
JSON-RPC layer on top, SDP helpers for publish offers and subscriber
answers, and start_sfu() to run the real server binary.

The WebSocket can end a connection every way a real network does: a clean
close handshake, a TCP reset, a half-close, a plain FIN, or a reader that
stops reading so the server's output piles up.
"""
import asyncio
import base64
import collections
import hashlib
import itertools
import json
import os
import random
import re
import resource
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.parse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class ConnectionClosed(ConnectionError):
    """The WebSocket ended; close_code is the server's code, or None without a close frame."""

    def __init__(self, close_code=None):
        super().__init__(f"websocket closed (code {close_code})")
        self.close_code = close_code


class RpcError(Exception):
    """A JSON-RPC error reply: code, data.reason and the message."""

    def __init__(self, error):
        self.code = error.get("code")
        self.reason = (error.get("data") or {}).get("reason")
        super().__init__(f"{self.code} {self.reason}: {error.get('message')}")


# --- WebSocket (RFC 6455), client side -------------------------------------


def _mask(payload: bytes, key: bytes) -> bytes:
    # XOR with the 4-byte key repeated (§5.3), on big integers: fast for 16 KiB payloads.
    if not payload:
        return payload
    n = len(payload)
    keystream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, fin=True) -> bytes:
    """One masked client frame (§5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + _mask(payload, key)


class WebSocket:
    """A client WebSocket. recv() returns whole text messages (fragments
    reassembled), answers pings, and raises ConnectionClosed at the end."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.close_code = None  # the server's close code, once its close frame arrived
        self.close_sent = False
        self.eof_sent = False
        self.bytes_read = 0

    @classmethod
    async def connect(cls, port, query="", timeout=5.0, rcvbuf=None):
        """Opens ws://127.0.0.1:port/ws?query. rcvbuf shrinks the kernel receive
        buffer (set before connecting, so the TCP window follows it)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), timeout)
            reader, writer = await asyncio.open_connection(sock=sock, limit=256 << 10)
        except BaseException:
            sock.close()
            raise
        ws = cls(reader, writer)
        try:
            await asyncio.wait_for(ws._handshake(port, query), timeout)
        except BaseException:
            writer.transport.abort()
            raise
        return ws

    async def _handshake(self, port, query):
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/ws" + (f"?{query}" if query else "")
        self.writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        if not head.startswith("HTTP/1.1 101"):
            raise ConnectionError("upgrade refused: " + head.split("\r\n", 1)[0])
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if f"sec-websocket-accept: {accept.lower()}" not in head.lower():
            raise ConnectionError("bad Sec-WebSocket-Accept")

    def send_text(self, text: str, fragments=1):
        """Queues one text message, split into `fragments` frames. Synchronous,
        so many sockets can be written in the same event-loop tick."""
        data = text.encode()
        if fragments <= 1 or len(data) < fragments:
            self.writer.write(encode_frame(OP_TEXT, data))
            return
        step = -(-len(data) // fragments)
        chunks = [data[i:i + step] for i in range(0, len(data), step)]
        for i, chunk in enumerate(chunks):
            self.writer.write(encode_frame(OP_TEXT if i == 0 else OP_CONT, chunk, fin=i == len(chunks) - 1))

    def send_close(self, code=1000, reason=""):
        if self.close_sent or self.eof_sent or self.writer.is_closing():
            return
        self.close_sent = True
        self.writer.write(encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()))

    async def _read_frame(self):
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            key = await self.reader.readexactly(4) if b1 & 0x80 else None
            payload = await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            raise ConnectionClosed(self.close_code) from None
        self.bytes_read += n
        return bool(b0 & 0x80), b0 & 0x0F, _mask(payload, key) if key else payload

    async def recv(self) -> str:
        """The next text message (binary messages are decoded as UTF-8 too)."""
        parts = []
        while True:
            fin, opcode, payload = await self._read_frame()
            if opcode == OP_PING:
                if not self.writer.is_closing() and not self.eof_sent:
                    self.writer.write(encode_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.send_close(self.close_code)  # echo it (§5.5.1), then wait for the server's FIN
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8", "replace")

    # Ways to end, all immediate (Client adds the waiting where there is something to wait for).

    def reset(self):
        """TCP RST: linger on with a zero timeout, then close without a close frame."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None and sock.fileno() >= 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    def drop(self):
        """A plain FIN (after what is already queued), no close frame."""
        self.writer.transport.close()

    def stop_reading(self):
        """Stops taking bytes from the kernel, so its window fills and the server's output queues up."""
        self.writer.transport.pause_reading()

    def resume_reading(self):
        self.writer.transport.resume_reading()

    def half_close(self):
        """shutdown(SHUT_WR): the server reads EOF while we can still read."""
        if self.writer.can_write_eof() and not self.writer.is_closing() and not self.eof_sent:
            self.eof_sent = True
            self.writer.write_eof()


# --- JSON-RPC 2.0 ----------------------------------------------------------


class TokenBucket:
    """Client-side pacing under the server's limit (20 requests/s, burst 50)."""

    def __init__(self, rate=18.0, burst=40.0):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()

    async def take(self):
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)


class Client:
    """A signaling session: requests with replies, notifications kept (the
    last `keep` of them) and counted by method. on_notification, when set, is
    called with each notification as it arrives."""

    _ids = itertools.count(1)

    def __init__(self, ws: WebSocket, keep=5000):
        self.ws = ws
        self.pending = {}
        self.notifications = collections.deque(maxlen=keep)  # (sequence number, message)
        self.counts = collections.Counter()
        self.stray_errors = []  # errors with a null id (unparsable or binary frames)
        self.on_notification = None
        self.pace = TokenBucket()
        self.peer_id = None
        self._seq = 0
        self._changed = asyncio.Event()
        self._may_read = asyncio.Event()  # cleared by stop_reading()
        self._may_read.set()
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def connect(cls, port, room=None, token=None, timeout=5.0, rcvbuf=None):
        query = urllib.parse.urlencode({k: v for k, v in (("room", room), ("token", token)) if v})
        return cls(await WebSocket.connect(port, query, timeout, rcvbuf))

    @property
    def close_code(self):
        return self.ws.close_code

    async def _read_loop(self):
        try:
            while True:
                await self._may_read.wait()
                self._dispatch(json.loads(await self.ws.recv()))
        except (ConnectionClosed, ValueError):
            pass
        finally:
            self.closed.set()
            self._changed.set()
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionClosed(self.ws.close_code))
                    fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # its waiter may be gone
            self.pending.clear()
            if not self.ws.writer.is_closing():
                self.ws.writer.transport.close()

    def _dispatch(self, msg):
        if "method" in msg and "id" not in msg:
            self._seq += 1
            self.notifications.append((self._seq, msg))
            self.counts[msg["method"]] += 1
            self._changed.set()
            if self.on_notification:
                self.on_notification(msg)
        elif msg.get("id") is None:
            self.stray_errors.append(msg)
        elif (fut := self.pending.pop(msg["id"], None)) and not fut.done():
            fut.set_result(msg)

    async def request(self, method, params=None, timeout=5.0, paced=True, fragments=1):
        """Sends a request (in `fragments` frames) and returns its result;
        raises RpcError, ConnectionClosed or TimeoutError."""
        if paced:
            await asyncio.wait_for(self.pace.take(), timeout)
        if self.closed.is_set():
            raise ConnectionClosed(self.ws.close_code)
        rid = next(Client._ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        try:
            self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}, fragments)
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            self.pending.pop(rid, None)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def notify(self, method, params=None):
        """A request without id: acted on, never answered (not paced)."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params or {}})

    def send(self, obj, fragments=1):
        self.send_raw(json.dumps(obj, separators=(",", ":")), fragments)

    def send_raw(self, text, fragments=1):
        """Queues a text message as is; ConnectionClosed once we can no longer write."""
        if self.ws.writer.is_closing() or self.ws.eof_sent:
            raise ConnectionClosed(self.ws.close_code)
        self.ws.send_text(text, fragments)

    async def join(self, room=None, timeout=5.0, **params):
        result = await self.request("join", {**({"room": room} if room else {}), **params}, timeout)
        self.peer_id = result["peerId"]
        return result

    def seq(self):
        """The sequence number of the latest notification (for wait_for's `after`)."""
        return self._seq

    async def wait_for(self, method, pred=None, timeout=5.0, after=0):
        """The first kept notification `method` newer than `after` whose params
        satisfy pred; raises TimeoutError, or ConnectionClosed once closed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            for seq, msg in list(self.notifications):
                if seq > after and msg["method"] == method and (pred is None or pred(msg.get("params", {}))):
                    return msg.get("params", {})
            if self.closed.is_set():
                raise ConnectionClosed(self.ws.close_code)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError(f"no {method} within {timeout} s")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # Endings. The abrupt ones are synchronous so that many clients can end
    # in the same event-loop tick.

    async def close_clean(self, code=1000, timeout=3.0):
        """Close frame, then wait for the server's close and FIN."""
        self.ws.send_close(code)
        await self.wait_closed(timeout)

    def reset(self):
        self._stop_reader()
        self.ws.reset()

    def drop(self):
        self._stop_reader()
        self.ws.drop()

    async def half_close(self, timeout=3.0):
        """Our FIN without a close frame; keep reading until the server ends too."""
        self.ws.half_close()
        await self.wait_closed(timeout)

    def stop_reading(self):
        """Leaves the socket open but reads nothing more (resume_reading() undoes it)."""
        self._may_read.clear()
        self.ws.stop_reading()

    def resume_reading(self):
        self._may_read.set()
        self.ws.resume_reading()

    async def wait_closed(self, timeout=3.0):
        """Waits for the end of the connection; closes it ourselves after the timeout."""
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except asyncio.TimeoutError:
            self.drop()

    def _stop_reader(self):
        if not self._reader.done():
            self._reader.cancel()


# --- SDP -------------------------------------------------------------------


def random_fingerprint(rng=random):
    return ":".join(f"{rng.randrange(256):02X}" for _ in range(32))


def random_ice(rng=random):
    """An (ufrag, pwd) pair in the shape browsers use."""
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
    return "".join(rng.choice(chars) for _ in range(4)), "".join(rng.choice(chars) for _ in range(24))


def _media_head(mline, ufrag, pwd, fingerprint, setup, mid):
    """The m-line and its connection, ICE, DTLS and mid lines (Chrome's order)."""
    rtcp = [] if mline.startswith("m=application") else ["a=rtcp:9 IN IP4 0.0.0.0"]
    return [mline, "c=IN IP4 0.0.0.0", *rtcp, f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}", "a=ice-options:trickle",
            f"a=fingerprint:sha-256 {fingerprint}", f"a=setup:{setup}", f"a=mid:{mid}"]


def _session_lines(rng, mids, stream=""):
    return ["v=0", f"o=- {rng.randrange(1, 1 << 62)} 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
            "a=group:BUNDLE " + " ".join(mids), "a=extmap-allow-mixed",
            "a=msid-semantic: WMS" + (f" {stream}" if stream else "")]


VP8_FEEDBACK = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]


def publish_offer(ufrag, pwd, audio=True, video=True, data=False, fingerprint=None, rng=random):
    """A Chrome-like publisher offer: sendonly opus/111 and VP8/96 (+ rtx/97)
    with SSRCs and msids, and optionally the SCTP data channel section."""
    fingerprint = fingerprint or random_fingerprint(rng)
    stream, cname = f"s{rng.randrange(1 << 32):08x}", f"c{rng.randrange(1 << 32):08x}"
    kinds = [k for k, on in (("audio", audio), ("video", video), ("application", data)) if on]
    mids = [str(i) for i in range(len(kinds))]
    lines = _session_lines(rng, mids, stream)
    for mid, kind in zip(mids, kinds):
        if kind == "application":
            lines += [*_media_head("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", ufrag, pwd, fingerprint,
                                   "actpass", mid),
                      "a=sctp-port:5000", "a=max-message-size:262144"]
            continue
        track = f"t{rng.randrange(1 << 32):08x}"
        ssrc = rng.randrange(1, 1 << 32)
        if kind == "audio":
            lines += [*_media_head("m=audio 9 UDP/TLS/RTP/SAVPF 111", ufrag, pwd, fingerprint, "actpass", mid),
                      "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                      "a=sendonly", f"a=msid:{stream} {track}", "a=rtcp-mux",
                      "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc",
                      "a=fmtp:111 minptime=10;useinbandfec=1",
                      f"a=ssrc:{ssrc} cname:{cname}", f"a=ssrc:{ssrc} msid:{stream} {track}"]
        else:
            rtx = rng.randrange(1, 1 << 32)
            lines += [*_media_head("m=video 9 UDP/TLS/RTP/SAVPF 96 97", ufrag, pwd, fingerprint, "actpass", mid),
                      "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                      "a=sendonly", f"a=msid:{stream} {track}", "a=rtcp-mux", "a=rtcp-rsize",
                      "a=rtpmap:96 VP8/90000", *[f"a=rtcp-fb:96 {fb}" for fb in VP8_FEEDBACK],
                      "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
                      f"a=ssrc-group:FID {ssrc} {rtx}"]
            for s in (ssrc, rtx):
                lines += [f"a=ssrc:{s} cname:{cname}", f"a=ssrc:{s} msid:{stream} {track}"]
    return "\r\n".join(lines) + "\r\n"


def split_sections(sdp):
    """The SDP's m-sections as lists of lines (the session part dropped)."""
    sections = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            sections.append([line])
        elif sections and line:
            sections[-1].append(line)
    return sections


CODEC_ATTRIBUTES = ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")


def answer_for(offer_sdp, ufrag, pwd, fingerprint=None, rng=random):
    """A browser-like answer to a server subscriberOffer: each section in
    order with its mid and kind; port-0 sections stay rejected; media
    sections recvonly with the offered codecs; the SCTP section accepted."""
    fingerprint = fingerprint or random_fingerprint(rng)
    body, live = [], []
    for section in split_sections(offer_sdp):
        kind, port, proto, *formats = section[0][2:].split()
        mid = next((l[6:] for l in section if l.startswith("a=mid:")), str(len(body)))
        if port == "0":
            body += [f"m={kind} 0 {proto} {formats[0] if formats else '0'}", "c=IN IP4 0.0.0.0",
                     f"a=mid:{mid}", "a=inactive"]
            continue
        live.append(mid)
        body += _media_head(f"m={kind} 9 {proto} {' '.join(formats)}", ufrag, pwd, fingerprint, "active", mid)
        if kind == "application":
            body += ["a=sctp-port:5000", "a=max-message-size:262144"]
            continue
        body += [l for l in section if l.startswith("a=extmap:")]
        body += ["a=recvonly", "a=rtcp-mux"]
        body += [l for l in section if l == "a=rtcp-rsize" or l.startswith(CODEC_ATTRIBUTES)]
    lines = _session_lines(rng, live)
    if not live:
        lines = [l for l in lines if not l.startswith("a=group:")]
    return "\r\n".join(lines + body) + "\r\n"


# --- The server process ----------------------------------------------------


def raise_fd_limit(wanted=65536):
    """Soft RLIMIT_NOFILE up to the hard limit; children inherit it. Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(wanted, soft))
    if target == resource.RLIM_INFINITY:
        target = wanted
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Sfu:
    """A running sfu: its port, and the tail of its log (stderr is drained in
    a thread so a full pipe never blocks the server)."""

    def __init__(self, proc, log):
        self.proc, self.log = proc, log
        self.port = None

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def exit_description(self):
        rc = self.proc.poll()
        if rc is None:
            return "still running"
        if rc < 0:
            return f"killed by {signal.Signals(-rc).name}"
        return f"exited with status {rc}"

    def log_tail(self, lines=60):
        time.sleep(0.1)  # let the drain thread catch the last lines
        tail = list(self.log)[-lines:]
        return "".join(tail) if tail else "(no log)\n"

    def stop(self, signo=signal.SIGTERM, timeout=15.0):
        """Sends the signal; returns the exit status (killed after the timeout: None)."""
        if self.alive():
            self.proc.send_signal(signo)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def http_get(self, path, timeout=5.0):
        """(status, body) of a GET on the HTTP port; (-1, b'') when it cannot connect."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except OSError:
            return -1, b""
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return (int(m.group(1)) if m else -1), data.partition(b"\r\n\r\n")[2]

    def rss_kb(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
        except (OSError, StopIteration, ValueError):
            return 0


def start_sfu(path, *args, env=None, workers=2, timeout=30.0):
    """Starts sfu on free loopback ports (plus args) and waits for its
    'listening on' line. env adds to the inherited environment (ASAN_OPTIONS
    and friends pass through untouched)."""
    raise_fd_limit()
    proc = subprocess.Popen([path, "--listen", "127.0.0.1:0", "--rtc-listen", "127.0.0.1:0",
                             "--workers", str(workers), *args],
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            env={**os.environ, **(env or {})})
    sfu = Sfu(proc, collections.deque(maxlen=4000))
    announced = threading.Event()

    def drain():
        for line in proc.stderr:
            sfu.log.append(line)
            m = not announced.is_set() and re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                sfu.port = int(m.group(1))
                announced.set()
        announced.set()
        proc.stderr.close()

    threading.Thread(target=drain, daemon=True).start()
    announced.wait(timeout)
    if sfu.port is None:
        if sfu.alive():
            proc.kill()
        proc.wait()
        raise RuntimeError(f"sfu did not announce its port ({sfu.exit_description()}):\n" + sfu.log_tail())
    return sfu
