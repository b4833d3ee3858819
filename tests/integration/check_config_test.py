#!/usr/bin/env python3
"""The operator's view of the real binary: `sfu --check-config FILE` and the
structured log.

- --check-config validates the file with the environment and flags (the
  precedence of a normal start), prints the effective settings with secrets
  masked and exits 0, binding nothing; a broken file exits 2 naming the key
  and its line.
- --log-format json: every line sfu writes is one JSON object, and the
  lifecycle lines of a session carry room and peer ids.

usage: check_config_test.py PATH_TO_SFU PATH_TO_SFU_YAML
"""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

SFU = None
SFU_YAML = None


def run_sfu(*args, env=None):
    # A clean environment but for PATH and sanitizer options, so an
    # operator's SFU_* variables cannot change the outcome.
    base = {k: v for k, v in os.environ.items() if not k.startswith("SFU_")}
    return subprocess.run([SFU, *args], capture_output=True, text=True, timeout=20, env={**base, **(env or {})})


class CheckConfigTest(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_shipped_file_is_valid_and_prints_its_settings(self):
        r = run_sfu("--check-config", SFU_YAML)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("listen: 127.0.0.1:8080", r.stdout)
        self.assertIn("rtc_listen: 127.0.0.1:40000", r.stdout)
        for section in ("media:", "auth:", "ice_servers:", "limits:", "log:", "metrics:"):
            self.assertRegex(r.stdout, rf"(?m)^{section}$")

    def test_binds_nothing(self):
        # Both ports are held here; a start would fail, the check must not.
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            tcp.listen()
            udp.bind(("127.0.0.1", 0))
            r = run_sfu("--check-config", SFU_YAML, "--listen", f"127.0.0.1:{tcp.getsockname()[1]}",
                        "--rtc-listen", f"127.0.0.1:{udp.getsockname()[1]}", "--workers", "1")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"listen: 127.0.0.1:{tcp.getsockname()[1]}", r.stdout)

    def test_environment_and_flags_over_the_file(self):
        path = self.write("media:\n  workers: 2\nlog:\n  level: warn\n")
        r = run_sfu("--check-config", path, "--log-format", "json",
                    env={"SFU_WORKERS": "3", "SFU_METRICS_LISTEN": "127.0.0.1:9100"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("workers: 3", r.stdout)
        self.assertIn("level: warn", r.stdout)
        self.assertIn("format: json", r.stdout)
        self.assertIn("listen: 127.0.0.1:9100", r.stdout)

    def test_secrets_are_masked(self):
        path = self.write("auth:\n  api_keys:\n    main: 0123456789abcdef-file-secret\n")
        r = run_sfu("--check-config", path, "--api-key", "cli=0123456789abcdef-flag-secret",
                    env={"SFU_TURN_SECRET": "env-turn-secret"})
        self.assertEqual(r.returncode, 0, r.stderr)
        for secret in ("file-secret", "flag-secret", "env-turn-secret"):
            self.assertNotIn(secret, r.stdout + r.stderr)
        self.assertIn('main: "***"', r.stdout)
        self.assertIn('cli: "***"', r.stdout)
        self.assertIn('turn_secret: "***"', r.stdout)

    def test_unknown_key_exits_2_with_key_and_line(self):
        path = self.write("listen: 127.0.0.1:8080\nmedia:\n  workers: 2\n  wrokers: 3\n")
        r = run_sfu("--check-config", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 4", r.stderr)
        self.assertIn("'media.wrokers'", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_wrong_type_and_range_name_key_and_line(self):
        for text, line, key in (("media:\n  ice_tcp: [1]\n", 2, "media.ice_tcp"),
                                ("\n\nlimits:\n  max_rooms: -1\n", 4, "limits.max_rooms"),
                                ("log:\n  format: xml\n", 2, "log.format"),
                                ("metrics:\n  listen: nocolon\n", 2, "metrics.listen")):
            r = run_sfu("--check-config", self.write(text))
            self.assertEqual(r.returncode, 2, text)
            self.assertIn(f"line {line}:", r.stderr, text)
            self.assertIn(f"'{key}'", r.stderr, text)

    def test_yaml_syntax_error_names_a_line(self):
        r = run_sfu("--check-config", self.write("listen: 127.0.0.1:8080\nmedia: {workers: 2\n"))
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"line \d+: not valid YAML")

    def test_what_a_start_would_refuse(self):
        r = run_sfu("--check-config", SFU_YAML, "--listen", "0.0.0.0:8080")
        self.assertEqual(r.returncode, 2)
        self.assertIn("API key", r.stderr)
        r = run_sfu("--check-config", SFU_YAML, "--rtc-listen", "0.0.0.0:40000")
        self.assertEqual(r.returncode, 2)
        self.assertIn("announce", r.stderr)
        self.assertEqual(run_sfu("--check-config", "/nonexistent/sfu.yaml").returncode, 2)


class JsonLogTest(unittest.TestCase):
    def test_every_line_is_json_and_sessions_carry_ids(self):
        sfu = sfu_client.start_sfu(SFU, "--log-format", "json", workers=1)
        try:
            async def session():
                c = await sfu_client.Client.connect(sfu.port)
                joined = await c.join("logroom", name="ana \"the\" tester")
                ufrag, pwd = sfu_client.random_ice()
                await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd)})
                await c.close_clean()
                return joined

            joined = asyncio.run(session())
            peer_id = joined["peerId"]
        finally:
            self.assertEqual(sfu.stop(), 0)
        lines = [l for l in sfu.log_tail(400).splitlines() if l.strip()]
        records = []
        for line in lines:
            records.append(json.loads(line))  # fails the test on any non-JSON line
        for r in records:
            self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(r["level"], ("trace", "debug", "info", "warn", "error"))
        msgs = [r["msg"] for r in records]
        self.assertTrue(any(re.match(r"listening on http://127\.0\.0\.1:\d+$", m) for m in msgs), msgs)
        joined_lines = [r for r in records if r["msg"] == "peer joined"]
        self.assertEqual(len(joined_lines), 1, msgs)
        self.assertEqual(joined_lines[0]["room"], "logroom")
        self.assertEqual(joined_lines[0]["peer"], peer_id)
        published = [r for r in records if r["msg"] == "publish accepted"]
        self.assertEqual(len(published), 1, msgs)
        self.assertEqual(published[0]["producers"], "2")
        added = [r for r in records if r["msg"] == "producer added"]
        self.assertEqual(sorted(r["kind"] for r in added), ["audio", "video"])
        for r in published + added:
            self.assertEqual(r["room"], "logroom")
            self.assertEqual(r["peer"], peer_id)
            self.assertRegex(r["transport"], r"^\d+$")
        left = [r for r in records if r["msg"] == "peer left"]
        self.assertEqual(len(left), 1, msgs)
        self.assertEqual((left[0]["room"], left[0]["peer"], left[0]["reason"]), ("logroom", peer_id, "disconnected"))
        self.assertNotEqual(left[0]["pub_transport"], "0")  # the publisher transport it had
        self.assertIn("stopped", msgs)


if __name__ == "__main__":
    SFU = sys.argv.pop(1)
    SFU_YAML = sys.argv.pop(1)
    unittest.main(verbosity=2)
