#!/usr/bin/env python3
"""Cluster mode's node registry against a real redis-server (Debian's),
started by the test on a free loopback port, and three real sfu nodes:

- every node lists every live node in GET /cluster and answers /readyz 200;
- a fourth process with an id already held by a live node is refused
  (/readyz 503 "node id collision") and does not overwrite the entry;
- `kill -9` of a node: the others drop it within 5 s (measured, printed);
- SIGTERM: the node leaves the registry at once and exits 0;
- a malformed registry entry is skipped and counted, never trusted;
- Redis killed: /readyz turns 503 ("redis unavailable") while local
  serving goes on; Redis restarted (empty): the nodes re-register
  themselves within seconds, with no duplicate.

usage: cluster_registry_test.py PATH_TO_SFU
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_support import Node, Redis, free_port, wait_until  # noqa: E402

SFU = None


class ClusterRegistryTest(unittest.TestCase):
    def setUp(self):
        self.redis = Redis(free_port())
        self.redis.start()
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.stop(signal.SIGKILL)
        self.redis.kill()

    def node(self, node_id):
        n = Node(SFU, node_id, self.redis.port)
        self.nodes.append(n)
        return n

    def test_registry(self):
        a, b, c = self.node("a"), self.node("b"), self.node("c")
        self.assertTrue(wait_until(lambda: all(n.live() == ["a", "b", "c"] for n in (a, b, c)), 5),
                        [n.live() for n in (a, b, c)])
        for n in (a, b, c):
            self.assertEqual(n.http("/readyz"), (200, "ok\n"))
        entry = {e["id"]: e for e in a.cluster()["nodes"]}["b"]
        self.assertEqual(entry["url"], f"http://127.0.0.1:{b.port}")
        self.assertTrue(entry["fingerprint"].startswith("sha-256 "))
        self.assertEqual(len(entry["media"]), 1)

        # An id already held by a live node: refused, not overwritten.
        dup = self.node("a")
        self.assertTrue(wait_until(lambda: dup.http("/readyz") == (503, "node id collision\n"), 5),
                        dup.http("/readyz"))
        time.sleep(1.2)
        self.assertEqual({e["id"]: e for e in c.cluster()["nodes"]}["a"]["url"], f"http://127.0.0.1:{a.port}")
        self.assertTrue(any("node id collision" in line for line in dup.log))
        self.assertEqual(dup.stop(), 0)
        self.nodes.remove(dup)

        # A malformed entry (someone else's bug, or a forgery): skipped and counted.
        self.redis.cli("HSET", "sfu:node:evil", "instance", "x", "info", '{"id": 7')
        self.redis.cli("SADD", "sfu:nodes", "evil")
        time.sleep(1.5)
        self.assertEqual(a.live(), ["a", "b", "c"])
        metrics = a.http("/metrics")[1]
        self.assertRegex(metrics, r"(?m)^sfu_cluster_malformed_entries_total [1-9]")
        self.redis.cli("DEL", "sfu:node:evil")

        # kill -9: the others drop it within 5 s.
        t0 = time.monotonic()
        b.stop(signal.SIGKILL)
        self.assertTrue(wait_until(lambda: a.live() == ["a", "c"] and c.live() == ["a", "c"], 6))
        gone = time.monotonic() - t0
        print(f"cluster: kill -9 of a node, gone from every registry view after {gone:.2f} s")
        self.assertLess(gone, 5.0)

        # SIGTERM: leaves at once (no TTL wait) and exits 0.
        t0 = time.monotonic()
        self.assertEqual(c.stop(), 0)
        self.assertTrue(wait_until(lambda: a.live() == ["a"], 3))
        print(f"cluster: SIGTERM'd node gone after {time.monotonic() - t0:.2f} s (drain timeout 1 s)")

        # Redis lost: not ready (joins go elsewhere), but still serving what it has.
        self.redis.kill()
        self.assertTrue(wait_until(lambda: a.http("/readyz") == (503, "redis unavailable\n"), 3), a.http("/readyz"))
        self.assertEqual(a.http("/healthz")[0], 200)
        # Redis back, empty: re-registered by itself.
        self.redis.start()
        t0 = time.monotonic()
        self.assertTrue(wait_until(lambda: a.http("/readyz") == (200, "ok\n") and a.live() == ["a"], 12),
                        (a.http("/readyz"), a.live()))
        print(f"cluster: Redis restarted, node ready and registered again after {time.monotonic() - t0:.2f} s")
        self.assertEqual(self.redis.cli("SMEMBERS", "sfu:nodes"), "a")
        metrics = a.http("/metrics")[1]
        self.assertRegex(metrics, r'(?m)^sfu_redis_connects_total\{event="lost"\} [1-9]')
        self.assertRegex(metrics, r"(?m)^sfu_cluster_nodes 1$")

    def test_bad_configuration_is_refused(self):
        r = subprocess.run([SFU, "--redis", "redis://host:notaport", "--check-config", os.devnull],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--redis", r.stderr)
        r = subprocess.run([SFU, "--redis", "http://x", "--listen", "127.0.0.1:0"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        # Cluster mode without the secret that signs messages between nodes.
        r = subprocess.run([SFU, "--redis", "redis://127.0.0.1:1", "--check-config", os.devnull],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--cluster-secret", r.stderr)
        r = subprocess.run([SFU, "--node-id", "bad id!", "--listen", "127.0.0.1:0"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_unreachable_redis_at_start(self):
        port = free_port()  # nothing listens there
        n = Node(SFU, "lonely", port)
        self.nodes.append(n)
        time.sleep(1.0)
        self.assertEqual(n.http("/readyz"), (503, "redis unavailable\n"))
        self.assertEqual(n.http("/cluster")[0], 200)
        self.assertEqual(n.cluster()["nodes"], [])
        self.assertTrue(any("redis" in line and ("unreachable" in line or "connect failed" in line) for line in n.log))
        self.assertEqual(n.stop(), 0)  # stops cleanly without ever reaching Redis


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: cluster_registry_test.py PATH_TO_SFU")
    SFU = os.path.abspath(sys.argv.pop(1))
    if not shutil.which("redis-server"):
        sys.exit("redis-server is not installed (deploy/install-deps.sh installs it)")
    unittest.main(verbosity=2)
