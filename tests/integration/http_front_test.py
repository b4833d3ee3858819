#!/usr/bin/env python3
"""Loopback tests of the sfu binary's HTTP front: health endpoints, bad and
oversized requests, and a clean stop on SIGINT and SIGTERM.

usage: http_front_test.py PATH_TO_SFU
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

SFU = None


class Server:
    """Starts sfu on a free loopback port and reads the port it announces."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen([SFU, "--listen", "127.0.0.1:0", "--rtc-listen", "127.0.0.1:0",
                                      "--workers", "2", *extra],
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        self.port = None
        self.candidates = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.candidates += re.findall(r"\[(candidate:[^\]]+)\]", line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return
        self.proc.kill()
        raise RuntimeError("sfu did not announce its port")

    def request(self, raw: bytes, timeout=5.0) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(raw)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)

    def get(self, path: str) -> bytes:
        return self.request(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    def stop(self, signo=signal.SIGTERM, timeout=5.0) -> int:
        self.proc.send_signal(signo)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.stderr.close()


def status(response: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(m.group(1)) if m else -1


class HttpFrontTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.stop()

    def test_healthz_and_readyz(self):
        r = self.server.get("/healthz")
        self.assertEqual(status(r), 200)
        self.assertTrue(r.endswith(b"ok\n"))
        self.assertEqual(status(self.server.get("/readyz")), 200)
        self.assertEqual(status(self.server.get("/healthz?probe=1")), 200)

    def test_unknown_path_and_method(self):
        self.assertEqual(status(self.server.get("/nope")), 404)
        r = self.server.request(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
        self.assertEqual(status(r), 405)

    def test_keep_alive_serves_several_requests(self):
        one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        last = b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        r = self.server.request(one + one + last)
        self.assertEqual(r.count(b"HTTP/1.1 200 OK"), 3)

    def test_garbage_gets_400_and_server_survives(self):
        r = self.server.request(b"\x00\x01\x02 not http at all\r\n\r\n")
        self.assertEqual(status(r), 400)
        self.assertEqual(status(self.server.get("/healthz")), 200)

    def test_oversized_header_and_body_get_413(self):
        big_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        self.assertEqual(status(self.server.request(big_header)), 413)
        big_body = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"b" * 70000)
        self.assertEqual(status(self.server.request(big_body)), 413)
        self.assertEqual(status(self.server.get("/healthz")), 200)

    def test_half_open_connection_does_not_block_others(self):
        idle = socket.create_connection(("127.0.0.1", self.server.port))
        idle.sendall(b"GET /heal")  # never finished
        try:
            self.assertEqual(status(self.server.get("/healthz")), 200)
        finally:
            idle.close()

    def test_sigterm_stops_cleanly_with_open_connection(self):
        idle = socket.create_connection(("127.0.0.1", self.server.port))
        try:
            self.assertEqual(self.server.stop(signal.SIGTERM), 0)
        finally:
            idle.close()

    def test_workers_announce_udp_and_tcp_candidates(self):
        # Two workers, each with one UDP and one passive TCP host candidate.
        self.assertEqual(len(self.server.candidates), 4, self.server.candidates)
        udp = [c for c in self.server.candidates if " udp " in c]
        tcp = [c for c in self.server.candidates if c.endswith("tcptype passive")]
        self.assertEqual(len(udp), 2)
        self.assertEqual(len(tcp), 2)
        for c in udp:
            port = int(c.split()[5])
            self.assertIn(" 127.0.0.1 ", c)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                with self.assertRaises(OSError):  # the worker holds the port
                    s.bind(("127.0.0.1", port))

    def test_sigint_stops_cleanly(self):
        self.assertEqual(self.server.stop(signal.SIGINT), 0)


class MediaPortTest(unittest.TestCase):
    def test_media_port_in_use_fails_with_message(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            r = subprocess.run([SFU, "--listen", "127.0.0.1:0", "--rtc-listen", f"127.0.0.1:{port}", "--workers", "1"],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"127.0.0.1:{port}", r.stderr)

    def test_wildcard_bind_needs_announced_address(self):
        r = subprocess.run([SFU, "--listen", "127.0.0.1:0", "--rtc-listen", "0.0.0.0:0", "--workers", "1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("announced", r.stderr)


class CommandLineTest(unittest.TestCase):
    def run_sfu(self, *args, env=None):
        return subprocess.run([SFU, *args], capture_output=True, text=True, timeout=10,
                              env={**os.environ, **(env or {})})

    def test_help_and_version(self):
        self.assertEqual(self.run_sfu("--help").returncode, 0)
        r = self.run_sfu("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^sfu \d+\.\d+\.\d+")

    def test_bad_arguments_exit_2_with_message(self):
        for args in (["--bogus"], ["--listen"], ["--listen", "127.0.0.1:99999"], ["--listen", "nocolon"],
                     ["--workers", "x"], ["--workers", "1000"], ["--announce", "not-an-ip"],
                     ["--rtc-listen", "1.2.3.4"]):
            r = self.run_sfu(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("sfu:", r.stderr)

    def test_port_in_use_fails_with_message(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            r = self.run_sfu("--listen", f"127.0.0.1:{s.getsockname()[1]}", "--rtc-listen", "127.0.0.1:0")
            self.assertEqual(r.returncode, 1)
            self.assertIn("in use", r.stderr.lower())

    def test_env_listen(self):
        proc = subprocess.Popen([SFU], stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "SFU_LISTEN": "127.0.0.1:0", "SFU_RTC_LISTEN": "127.0.0.1:0",
                                     "SFU_WORKERS": "1"})
        try:
            lines = [proc.stderr.readline() for _ in range(2)]
            self.assertIn("worker candidates worker=0", lines[0])
            self.assertRegex(lines[1], r"listening on http://127\.0\.0\.1:\d+")
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=5), 0)
            proc.stderr.close()


if __name__ == "__main__":
    SFU = sys.argv.pop(1)
    unittest.main(verbosity=2)
