"""Shared by the cluster tests: a redis-server of the test's own on a free
loopback port, and an sfu node in cluster mode (its log kept, its HTTP
endpoints and metrics at hand). Every process is started and stopped by
the test that uses it."""
import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

CLUSTER_SECRET = "integration-test-cluster-secret"
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=3):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_until(pred, limit, step=0.05):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Redis:
    def __init__(self, port):
        self.port = port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--loglevel", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: self.cli("PING") == "PONG", 5), "redis-server did not start"

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=5)
        return r.stdout.strip()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Node:
    def __init__(self, sfu, node_id, redis_port, extra=()):
        self.id = node_id
        self.port = free_port()
        self.log = []
        self.proc = subprocess.Popen([sfu, "--listen", f"127.0.0.1:{self.port}", "--rtc-listen", "127.0.0.1:0",
                                      "--workers", "1", "--redis", f"redis://127.0.0.1:{redis_port}",
                                      "--node-id", node_id, "--drain-timeout", "1",
                                      "--cluster-secret", CLUSTER_SECRET, *extra],
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        assert wait_until(lambda: self.http("/healthz")[0] == 200, 10), f"node {node_id} did not start"

    def http(self, path):
        try:
            return get(f"http://127.0.0.1:{self.port}{path}")
        except OSError:
            return 0, ""

    def live(self):
        status, body = self.http("/cluster")
        return sorted(n["id"] for n in json.loads(body)["nodes"]) if status == 200 else None

    def cluster(self):
        return json.loads(self.http("/cluster")[1])

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.05)  # the drain thread reads the last lines
        self.proc.stderr.close()
        return self.proc.returncode



    def metric(self, name, labels=""):
        """The value of one sample of GET /metrics (0 when absent)."""
        body = self.http("/metrics")[1]
        m = re.search(r"(?m)^" + re.escape(name + labels) + r" (\S+)$", body)
        return float(m.group(1)) if m else 0.0
