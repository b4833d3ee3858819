#!/usr/bin/env python3
"""A local cluster through HAProxy (deploy/cluster/up.sh and down.sh: Debian's
redis-server and haproxy, three real sfu nodes on loopback):

- up.sh prints its endpoints; every node sees the others in /cluster;
- through the balancer, a room's peers land on one node and see each other
  (`balance url_param room`), and rooms spread over the nodes;
- the client's address reaches the node (X-Forwarded-For, logged);
- kill -9 of a room's node: HAProxy's /readyz check drops it and a new join
  for that room lands on a live node (time measured, printed);
- sfu-load through the balancer, 50 rooms: its report shows the rooms and
  peers per node (join results name their node), no room split over nodes,
  every track received;
- what a join costs (printed for the closing note, loosely bounded): its
  latency through HAProxy and direct, the Redis commands it takes, and the
  control thread's CPU per join with cluster mode on and off;
- down.sh stops exactly what up.sh started.

usage: cluster_haproxy_test.py PATH_TO_SFU [PATH_TO_SFU_LOAD]
"""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SFU = None
SFU_LOAD = None


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base():
    """A port P with P..P+3 and P+100 free."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base < 60000 and all(port_free(p) for p in (base, base + 1, base + 2, base + 3, base + 100)):
            return base
    raise RuntimeError("no free port range")


def get(url):
    with urllib.request.urlopen(url, timeout=3) as r:
        return r.status, r.read().decode()


class ClusterHaproxyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sfu-cluster-")
        self.env = {**os.environ, "SFU_BIN": SFU, "SFU_CLUSTER_PORT": str(free_base()),
                    "SFU_CLUSTER_DIR": self.dir, "SFU_CLUSTER_MEDIA_PORT": "0",
                    "SFU_CLUSTER_NODE_ARGS": "--workers 1 --drain-timeout 1"}
        up = subprocess.run(["bash", os.path.join(ROOT, "deploy/cluster/up.sh"), "3"], env=self.env,
                            capture_output=True, text=True, timeout=90)
        self.assertEqual(up.returncode, 0, up.stderr)
        lines = up.stdout.strip().splitlines()
        self.endpoints = [line.split() for line in lines]
        self.balancer = int(next(e[1] for e in self.endpoints if e[0] == "balancer").rsplit(":", 1)[1])
        self.nodes = {e[1]: int(e[2].rsplit(":", 1)[1]) for e in self.endpoints if e[0] == "node"}
        with open(os.path.join(self.dir, "pids")) as f:
            self.pids = {int(parts[1]): parts[0] for parts in (line.split() for line in f)}

    def tearDown(self):
        down = subprocess.run(["bash", os.path.join(ROOT, "deploy/cluster/down.sh")], env=self.env,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(down.returncode, 0, down.stderr)
        for pid, kind in self.pids.items():  # down.sh left nothing running
            try:
                os.kill(pid, 0)
                alive = True
            except ProcessLookupError:
                alive = False
            self.assertFalse(alive, f"{kind} {pid} still running after down.sh")

    def room_node(self, room):
        """The node that hosts `room`, from the nodes' admin API."""
        for node, port in self.nodes.items():
            try:
                rooms = json.loads(get(f"http://127.0.0.1:{port}/admin/v1/rooms")[1])["rooms"]
            except OSError:
                continue
            if any(r["name"] == room for r in rooms):
                return node
        return None

    def test_balancer(self):
        self.assertEqual([e[0] for e in self.endpoints], ["redis", "balancer", "node", "node", "node"])
        def views():
            return [[n["id"] for n in json.loads(get(f"http://127.0.0.1:{port}/cluster")[1])["nodes"]]
                    for port in self.nodes.values()]
        deadline = time.monotonic() + 3  # each node reads the registry once a second
        while views() != [["n1", "n2", "n3"]] * 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(views(), [["n1", "n2", "n3"]] * 3)

        async def scenario():
            clients = []
            try:
                # One room's peers land together.
                a = await sfu_client.Client.connect(self.balancer, room="alpha")
                clients.append(a)
                await a.join()
                b = await sfu_client.Client.connect(self.balancer, room="alpha")
                clients.append(b)
                joined = await b.join()
                self.assertEqual([p["peerId"] for p in joined["peers"]], [a.peer_id])
                # Rooms spread over the nodes.
                for i in range(12):
                    c = await sfu_client.Client.connect(self.balancer, room=f"room-{i}")
                    clients.append(c)
                    await c.join()
                hosts = {self.room_node(f"room-{i}") for i in range(12)}
                print(f"cluster: 12 rooms through HAProxy landed on nodes {sorted(hosts)}")
                self.assertGreaterEqual(len(hosts), 2)

                # Kill alpha's node: a new join for alpha lands on a live node.
                victim = self.room_node("alpha")
                victim_pid = next(pid for pid, kind in self.pids.items()
                                  if kind == "node" and self.pid_node(pid) == victim)
                os.kill(victim_pid, signal.SIGKILL)
                t0 = time.monotonic()
                while True:
                    try:
                        c = await sfu_client.Client.connect(self.balancer, room="alpha", timeout=2)
                        clients.append(c)
                        await c.join(timeout=2)
                        break
                    except (OSError, asyncio.TimeoutError, sfu_client.RpcError, sfu_client.ConnectionClosed):
                        if time.monotonic() - t0 > 10:
                            raise
                        await asyncio.sleep(0.2)
                took = time.monotonic() - t0
                now_on = self.room_node("alpha")
                print(f"cluster: kill -9 of {victim}: a join for its room succeeded on {now_on} after {took:.2f} s")
                self.assertNotEqual(now_on, victim)
                self.assertLess(took, 5.0)
            finally:
                for c in clients:
                    c.drop()

        asyncio.run(asyncio.wait_for(scenario(), 60))
        # The client's address reached the node through X-Forwarded-For.
        logs = "".join(open(os.path.join(self.dir, f"{n}.log")).read() for n in self.nodes)
        self.assertIn("forwarded_for=127.0.0.1", logs)

    def test_sfu_load_through_the_balancer(self):
        if not SFU_LOAD:
            self.skipTest("no sfu-load given (built with SFU_BUILD_BENCH)")
        run = subprocess.run([SFU_LOAD, "--url", f"ws://127.0.0.1:{self.balancer}/ws", "--rooms", "50",
                              "--publishers", "1", "--subscribers", "1", "--no-video", "--ramp", "50",
                              "--duration", "4", "--room-prefix", "spread", "--json"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        report = json.loads(run.stdout)
        spread = ", ".join(f"{n}: {v['rooms']} rooms {v['peers']} peers" for n, v in sorted(report["nodes"].items()))
        print(f"cluster: sfu-load through HAProxy, 50 rooms: {spread}; split rooms {report['splitRooms']}; "
              f"tracks {report['tracksReceived']}/{report['tracksExpected']}")
        self.assertEqual(report["failedParticipants"], 0, report["failures"])
        self.assertEqual(sum(v["peers"] for v in report["nodes"].values()), 100)
        self.assertEqual(sum(v["rooms"] for v in report["nodes"].values()), 50)
        self.assertEqual(set(report["nodes"]), {"n1", "n2", "n3"})
        self.assertEqual(report["splitRooms"], 0)
        self.assertEqual(report["tracksReceived"], report["tracksExpected"])

    def test_join_costs(self):
        n = 200

        def thread_cpu_seconds(pid):
            # The control thread is the main thread (its tid is the pid).
            with open(f"/proc/{pid}/task/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def percentile(xs, q):
            s = sorted(xs)
            return s[min(len(s) - 1, int(q * len(s)))]

        async def joins(port, room_of):
            connect_join, join_only = [], []
            for i in range(n):
                t0 = time.perf_counter()
                c = await sfu_client.Client.connect(port, room=room_of(i))
                t1 = time.perf_counter()
                await c.join()
                t2 = time.perf_counter()
                connect_join.append(t2 - t0)
                join_only.append(t2 - t1)
                await c.request("leave")
                c.drop()
            return connect_join, join_only

        def metric(port, name):
            body = get(f"http://127.0.0.1:{port}/metrics")[1]
            return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + " "))

        node_id, port = "n1", self.nodes["n1"]
        node_pid = next(pid for pid, kind in self.pids.items() if kind == "node" and self.pid_node(pid) == node_id)
        # Rooms that hash to n1 through the balancer, so both paths reach the same node.
        async def rooms_on_n1():
            found = []
            i = 0
            while len(found) < 2:
                c = await sfu_client.Client.connect(self.balancer, room=f"cost-{i}")
                joined = await c.join()
                c.drop()
                if joined.get("node") == node_id:
                    found.append(f"cost-{i}")
                i += 1
            return found
        results = {}

        async def scenario():
            rooms = await rooms_on_n1()
            # A resident peer keeps each measured room open: the joins go into a live room.
            residents = []
            for room in rooms:
                r = await sfu_client.Client.connect(port, room=room)
                await r.join()
                residents.append(r)
            await asyncio.sleep(0.5)
            # Redis commands while idle (registry beats, the sweep), to subtract.
            c0, t0 = metric(port, "sfu_redis_commands_total"), time.monotonic()
            await asyncio.sleep(3)
            idle_rate = (metric(port, "sfu_redis_commands_total") - c0) / (time.monotonic() - t0)
            for label, target, room_of in [("direct, a new room each", port, lambda i: f"fresh-direct-{i}"),
                                           ("direct, one live room", port, lambda i: rooms[0]),
                                           ("HAProxy, one live room", self.balancer, lambda i: rooms[1])]:
                cmds, cpu, t0 = metric(port, "sfu_redis_commands_total"), thread_cpu_seconds(node_pid), time.monotonic()
                connect_join, join_only = await joins(target, room_of)
                elapsed = time.monotonic() - t0
                used = metric(port, "sfu_redis_commands_total") - cmds - idle_rate * elapsed
                results[label] = (connect_join, join_only, used / n, (thread_cpu_seconds(node_pid) - cpu) / n)
            for r in residents:
                r.drop()

        asyncio.run(asyncio.wait_for(scenario(), 120))
        # The same joins on a node without cluster mode.
        plain = sfu_client.start_sfu(SFU, workers=1)
        try:
            async def plain_joins():
                resident = await sfu_client.Client.connect(plain.port, room="solo")
                await resident.join()
                cpu = thread_cpu_seconds(plain.pid)
                connect_join, join_only = await joins(plain.port, lambda i: "solo")
                results["single node (no cluster), one live room"] = (connect_join, join_only, 0,
                                                                 (thread_cpu_seconds(plain.pid) - cpu) / n)
                resident.drop()
            asyncio.run(asyncio.wait_for(plain_joins(), 60))
        finally:
            plain.stop()
        for label, (cj, jo, redis_per_join, cpu_per_join) in results.items():
            print(f"join cost, {label}: connect+join p50 {percentile(cj, .5) * 1e3:.2f} ms p99 {percentile(cj, .99) * 1e3:.2f} ms; "
                  f"join p50 {percentile(jo, .5) * 1e3:.2f} ms p99 {percentile(jo, .99) * 1e3:.2f} ms; "
                  f"Redis commands per join+leave {redis_per_join:.1f}; control thread CPU per join+leave "
                  f"{cpu_per_join * 1e6:.0f} us ({n} joins)")
        # A join and its leave: one announce script each; a room new to the node adds its
        # directory read and, once empty, its rewrite. Loosely bounded so that a regression
        # (a command per peer, a loop) shows.
        self.assertLess(results["direct, one live room"][2], 3)
        self.assertLess(results["direct, a new room each"][2], 6)

    def pid_node(self, pid):
        with open(os.path.join(self.dir, "pids")) as f:
            for line in f:
                parts = line.split()
                if parts[0] == "node" and int(parts[1]) == pid:
                    return parts[2]
        return None


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: cluster_haproxy_test.py PATH_TO_SFU")
    SFU = os.path.abspath(sys.argv.pop(1))
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        SFU_LOAD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
