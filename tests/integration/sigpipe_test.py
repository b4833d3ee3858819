#!/usr/bin/env python3
"""A write to a peer that has gone must be an error on that connection,
never a signal that ends the process (SIGPIPE).

Two ways a client makes the server write to a dead TCP connection:
- ICE-TCP (RFC 6544 framing, written by libuv with plain write(2)): valid
  STUN checks for a real transport, then the socket closed at once; the
  server's responses hit a connection the kernel has already reset.
- WebSocket: a burst of requests, then close; the replies do the same.
Each is repeated, then the server must still answer /healthz and a join.

usage: sigpipe_test.py PATH_TO_SFU
"""
import asyncio
import hashlib
import hmac
import os
import re
import socket
import struct
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

SFU = None
MAGIC = 0x2112A442  # RFC 8489 §5


def stun_attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def binding_request(username, password, tie_breaker):
    """An ICE connectivity check (RFC 8445 §7.1.2) with MESSAGE-INTEGRITY
    (RFC 8489 §14.5) and FINGERPRINT (§14.7)."""
    txid = os.urandom(12)
    attrs = stun_attr(0x0006, username.encode())          # USERNAME
    attrs += stun_attr(0x0024, struct.pack("!I", 0x6E7F00FF))  # PRIORITY
    attrs += stun_attr(0x802A, tie_breaker)                # ICE-CONTROLLING
    attrs += stun_attr(0x0025, b"")                        # USE-CANDIDATE
    # MESSAGE-INTEGRITY covers the header with the length up to and including itself.
    header = struct.pack("!HHI", 0x0001, len(attrs) + 24, MAGIC) + txid
    mac = hmac.new(password.encode(), header + attrs, hashlib.sha1).digest()
    attrs += stun_attr(0x0008, mac)
    header = struct.pack("!HHI", 0x0001, len(attrs) + 8, MAGIC) + txid
    crc = (zlib.crc32(header + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    attrs += stun_attr(0x8028, struct.pack("!I", crc))
    return header + attrs


def tcp_candidate(answer_sdp):
    """(host, port) of the answer's ICE-TCP passive candidate."""
    m = re.search(r"a=candidate:\S+ \d+ tcp \d+ (\S+) (\d+) typ host tcptype passive", answer_sdp)
    if not m:
        raise AssertionError("no ICE-TCP candidate in the answer:\n" + answer_sdp)
    return m.group(1), int(m.group(2))


def server_credentials(answer_sdp):
    return (re.search(r"a=ice-ufrag:(\S+)", answer_sdp).group(1),
            re.search(r"a=ice-pwd:(\S+)", answer_sdp).group(1))


class SigpipeTest(unittest.TestCase):
    def setUp(self):
        self.sfu = sfu_client.start_sfu(SFU, workers=1)

    def tearDown(self):
        if self.sfu.alive():
            self.sfu.stop()

    def assert_alive(self, what):
        if not self.sfu.alive():
            self.fail(f"{what}: the server {self.sfu.exit_description()}\n{self.sfu.log_tail()}")
        status, _ = self.sfu.http_get("/healthz")
        self.assertEqual(status, 200, what)

    def test_ice_tcp_peer_gone(self):
        async def run():
            client = await sfu_client.Client.connect(self.sfu.port)
            await client.join("sigpipe")
            ufrag, pwd = sfu_client.random_ice()
            result = await client.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd)})
            # Leave the signaling socket open: the transport lives while the peer does.
            return client, result["sdp"], ufrag

        loop = asyncio.new_event_loop()
        client, answer, ufrag = loop.run_until_complete(run())
        host, port = tcp_candidate(answer)
        server_ufrag, server_pwd = server_credentials(answer)
        checks = b""
        for _ in range(32):
            msg = binding_request(f"{server_ufrag}:{ufrag}", server_pwd, os.urandom(8))
            checks += struct.pack("!H", len(msg)) + msg  # RFC 4571 framing
        for round_ in range(20):
            try:
                s = socket.create_connection((host, port), timeout=5)
                s.sendall(checks)
                s.close()  # orphaned: the server's answers meet a reset connection
            except OSError as e:
                self.assert_alive(f"ICE-TCP round {round_} ({e})")
            time.sleep(0.05)
        # One connection that waits for the first answer, proving the checks
        # are valid (the server writes), then vanishes.
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(checks)
        first = s.recv(2)
        self.assertEqual(len(first), 2, "the server did not answer a valid check over ICE-TCP")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(0.3)
        self.assert_alive("after writes to vanished ICE-TCP peers")
        loop.run_until_complete(client.close_clean())
        loop.close()

    def test_websocket_peer_gone(self):
        async def run():
            for round_ in range(20):
                try:
                    client = await sfu_client.Client.connect(self.sfu.port)
                except OSError as e:
                    self.assert_alive(f"WebSocket round {round_} ({e})")
                await client.join("sigpipe-ws")
                for i in range(40):
                    client.send({"jsonrpc": "2.0", "id": 1000 + i, "method": "getStats", "params": {}})
                if round_ % 2:
                    client.reset()
                else:
                    client.drop()
            await asyncio.sleep(0.3)
            fresh = await sfu_client.Client.connect(self.sfu.port)
            await fresh.join("sigpipe-ws")
            await fresh.close_clean()

        asyncio.run(run())
        self.assert_alive("after writes to vanished WebSocket peers")


if __name__ == "__main__":
    SFU = sys.argv.pop(1)
    unittest.main(verbosity=2)
