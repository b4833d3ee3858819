#!/usr/bin/env python3
"""Signaling chaos against the real sfu binary on loopback: many clients
that join, publish, negotiate, poke the server and end their connections
every way a network can (leave, close handshake, TCP reset, half-close, FIN,
a reader that stops reading), often several at the same moment. The server
must survive all of it, keep serving the others, and still stop cleanly
(exit status 0, which under ASan also means no leak).

usage: chaos_test.py PATH_TO_SFU [PATH_TO_SFU_LOAD] [unittest arguments, e.g. -k slow_reader]

Environment: SFU_CHAOS_SECONDS (default 20) is the length of the random
chaos; SFU_CHAOS_SEED replays a run (the seed is printed at the start and in
every failure). Timing still varies between runs, so a replay makes the same
choices but not necessarily the same interleaving.
"""
import asyncio
import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sfu_client import (Client, ConnectionClosed, RpcError, answer_for, publish_offer, random_fingerprint,  # noqa: E402
                        random_ice, raise_fd_limit, start_sfu)

SFU = None
SFU_LOAD = None
SECONDS = float(os.environ.get("SFU_CHAOS_SECONDS") or 20)
SEED = int(os.environ.get("SFU_CHAOS_SEED") or random.SystemRandom().randrange(1 << 31))
# Time limits are for a plain or ASan server; a ThreadSanitizer server runs
# several times slower (deploy/test.sh sets 5 for it).
TIME_SCALE = float(os.environ.get("SFU_CHAOS_TIME_SCALE") or 1)

LEAVE_KINDS = ("leave", "close", "reset", "half_close", "drop", "stop_reading")
BIG = "x" * 16000  # a relay payload just under the 16,384-byte limit once quoted


def report(line):
    print(f"chaos: {line}", file=sys.stderr, flush=True)


def end_now(c, kind):
    """Ends a connection without waiting: close frame, RST, FIN or half-close.
    Many clients can end this way in one event-loop tick."""
    if kind == "close":
        c.ws.send_close(1000)
    elif kind == "half_close":
        c.ws.half_close()
    else:
        getattr(c, kind)()  # reset, drop


async def end_session(c, kind, rng, linger=(0.2, 2.0)):
    """Ends a client's connection the given way (see LEAVE_KINDS) and waits
    for its end; a stop-reading client is dropped after `linger` seconds."""
    if kind == "leave":
        try:
            await c.request("leave", timeout=3)
        except (RpcError, ConnectionError, asyncio.TimeoutError):
            pass
        await c.wait_closed(3)
    elif kind == "close":
        await c.close_clean(rng.choice((1000, 1000, 1001, 4000)))
    elif kind == "half_close":
        await c.half_close()
    elif kind == "stop_reading":
        # The server keeps writing into a full window; then the socket goes.
        c.stop_reading()
        await asyncio.sleep(rng.uniform(*linger))
        end_now(c, rng.choice(("reset", "drop")))
    else:
        end_now(c, kind)


async def connect_and_join(port, room, **params):
    c = await Client.connect(port, timeout=10)
    await c.join(room, timeout=10, **params)
    return c


async def publish(c, rng, audio=True, video=True, data=False):
    ufrag, pwd = random_ice(rng)
    sdp = publish_offer(ufrag, pwd, audio=audio, video=video, data=data, rng=rng)
    return await c.request("publish", {"sdp": sdp}, timeout=5)


# --- Random chaos (scenarios a and f) ---------------------------------------


class ChaosPeer:
    """One random client's session: what it knows of its room, and its habit
    with subscriber offers (answer at once, late, or never)."""

    def __init__(self, client, rng, stats):
        self.c, self.rng, self.stats = client, rng, stats
        self.peers, self.producers, self.own = set(), set(), []
        self.ice, self.fingerprint = random_ice(rng), random_fingerprint(rng)
        self.habit = rng.choices(("prompt", "late", "never"), (7, 2, 1))[0]
        self.published = None
        self.tasks = set()
        client.on_notification = self._on_notification

    def stop(self):
        for t in self.tasks:
            t.cancel()

    def _on_notification(self, msg):
        method, p = msg["method"], msg.get("params", {})
        if method == "peerJoined":
            self.peers.add(p["peerId"])
        elif method == "peerLeft":
            self.peers.discard(p["peerId"])
        elif method == "producerAdded":
            self.producers.add(p["producerId"])
        elif method == "producerRemoved":
            self.producers.discard(p["producerId"])
        elif method == "subscriberOffer":
            self._on_offer(p["sdp"])
        elif method in ("kicked", "roomClosed"):
            self.stats[f"{method} ({p.get('reason')})"] += 1

    def _on_offer(self, sdp):
        self.stats["offers received"] += 1
        if self.habit == "never":
            self.stats["offers ignored"] += 1
            return
        delay = 0 if self.habit == "prompt" else self.rng.uniform(0.1, 2.0)
        task = asyncio.create_task(self._answer(sdp, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, sdp, delay):
        await asyncio.sleep(delay)
        try:
            await self.c.request("subscriberAnswer", {"sdp": answer_for(sdp, *self.ice, self.fingerprint, self.rng)})
            self.stats["offers answered" + (" late" if delay else "")] += 1
        except RpcError as e:
            self.stats[f"subscriberAnswer error {e.code} {e.reason}"] += 1
        except (ConnectionError, asyncio.TimeoutError):
            pass

    async def play(self, room, use_query, actions, running):
        joined = await self.c.join(None if use_query else room, autoSubscribe=self.rng.random() < 0.85)
        self.peers |= {p["peerId"] for p in joined["peers"]}
        self.producers |= {p["producerId"] for p in joined["producers"]}
        if self.rng.random() < 0.6:
            self.published = dict(audio=True, video=True, data=self.rng.random() < 0.3)
            await self._publish()
        for _ in range(actions):
            if not running():
                return
            await asyncio.sleep(self.rng.uniform(0.01, 0.3))
            action = self.rng.choices(self.ACTIONS, self.WEIGHTS)[0]
            try:
                await getattr(self, "_" + action)()
                self.stats["requests ok"] += 1
            except RpcError as e:
                self.stats[f"{action}: {e.code} {e.reason}"] += 1

    ACTIONS = ("relay", "getStats", "subscribe", "producer", "republish", "restartIce", "trickle", "garbage",
               "fragmented")
    WEIGHTS = (6, 2, 3, 2, 1, 1, 1, 1, 1)

    async def _publish(self, restart=False):
        if restart:
            self.ice = random_ice(self.rng)
        sdp = publish_offer(*self.ice, fingerprint=self.fingerprint, rng=self.rng, **self.published)
        result = await self.c.request("publish", {"sdp": sdp})
        self.own = [p["producerId"] for p in result["producers"]]

    async def _relay(self):
        others = sorted(self.peers - {self.c.peer_id})
        if not others:
            return
        to = self.rng.choice(others)
        data = BIG[:self.rng.randint(1000, 16000)] if self.rng.random() < 0.15 else {"n": self.rng.randrange(1000)}
        if self.rng.random() < 0.2:
            self.c.notify("relay", {"to": to, "data": data})  # no reply, but still counted by the rate limit
            await self.c.pace.take()
        else:
            await self.c.request("relay", {"to": to, "data": data})

    async def _getStats(self):
        await self.c.request("getStats")

    async def _subscribe(self):
        if self.producers:
            pid = self.rng.choice(sorted(self.producers))
            await self.c.request(self.rng.choice(("subscribe", "unsubscribe")), {"producerIds": [pid]})

    async def _producer(self):
        if self.own:
            op = self.rng.choices(("pauseProducer", "resumeProducer", "closeProducer"), (4, 4, 1))[0]
            await self.c.request(op, {"producerId": self.rng.choice(self.own)})

    async def _republish(self):
        if self.published:
            await self._publish(restart=self.rng.random() < 0.5)

    async def _restartIce(self):
        await self.c.request("restartIce")

    async def _trickle(self):
        await self.c.request("trickle", {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
                                         "sdpMid": "0", "target": self.rng.choice(("publisher", "subscriber"))})

    async def _garbage(self):
        self.c.send_raw(self.rng.choice(("{not json", "[]", '{"jsonrpc":"2.0"}', '{"jsonrpc":"2.0","id":[1]}')))

    async def _fragmented(self):
        await self.c.request("getStats", fragments=self.rng.randint(2, 5))


class Chaos:
    """`clients` random clients in `rooms`, each looping connect → join →
    maybe publish → random requests → a random way out, until the deadline
    or `stop`. Some leave together: they wait for their room's gate, which
    opens for all its waiters in the same event-loop tick."""

    def __init__(self, sfu, rng, rooms, clients=40):
        self.sfu, self.rng, self.rooms, self.clients = sfu, rng, rooms, clients
        self.stats = collections.Counter()
        self.parked = set()  # stop-reading clients waiting to be dropped
        self.gates = {}

    async def run(self, seconds, stop=None):
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + seconds
        self.stop = stop or asyncio.Event()
        self.gates = {room: asyncio.Event() for room in self.rooms}
        opener = asyncio.create_task(self._open_gates())
        scraper = asyncio.create_task(self._scrape_metrics())
        rngs = [random.Random(self.rng.getrandbits(64)) for _ in range(self.clients)]
        await asyncio.gather(*(self._client_loop(r) for r in rngs))
        opener.cancel()
        scraper.cancel()
        await asyncio.gather(*self.parked, return_exceptions=True)

    def running(self):
        return asyncio.get_running_loop().time() < self.deadline and not self.stop.is_set() and self.sfu.alive()

    async def _scrape_metrics(self):
        """GET /metrics every 250 ms throughout: under TSan this checks the
        workers' published samples against the control thread's reads."""
        loop = asyncio.get_running_loop()
        url = f"http://127.0.0.1:{self.sfu.port}/metrics"

        def get():
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read()

        while True:
            try:
                status, body = await loop.run_in_executor(None, get)
                self.stats["metrics scrapes" if status == 200 and b"sfu_rtp_packets_forwarded_total" in body
                           else "metrics scrape errors"] += 1
            except OSError:
                self.stats["metrics scrape errors"] += 1
            await asyncio.sleep(0.25)

    async def _open_gates(self):
        while True:
            await asyncio.sleep(0.4)
            for room in self.rooms:
                self.gates[room].set()
                self.gates[room] = asyncio.Event()

    async def _client_loop(self, rng):
        while self.running():
            try:
                await asyncio.wait_for(self._session(rng, rng.choice(self.rooms)), 30)
            except asyncio.TimeoutError:
                self.stats["session timeouts"] += 1
            except (ConnectionError, OSError) as e:
                self.stats[f"connect failed ({type(e).__name__})"] += 1
                await asyncio.sleep(0.1)

    async def _session(self, rng, room):
        use_query = rng.random() < 0.5
        c = await Client.connect(self.sfu.port, room=room if use_query else None)
        self.stats["sessions"] += 1
        peer = ChaosPeer(c, rng, self.stats)
        ended = False
        try:
            try:
                await peer.play(room, use_query, rng.randint(1, 15), self.running)
            except ConnectionClosed as e:
                self.stats[f"closed by the server ({e.close_code})"] += 1
            except asyncio.TimeoutError:
                self.stats["request timeouts"] += 1
            except RpcError as e:  # join or publish refused
                self.stats[f"refused: {e.code} {e.reason}"] += 1
            if not c.closed.is_set():
                await self._leave(c, rng, room)
            ended = True
        finally:
            peer.stop()
            if not ended:
                c.reset()

    async def _leave(self, c, rng, room):
        if rng.random() < 0.3:
            self.stats["left with others"] += 1
            try:
                await asyncio.wait_for(self.gates[room].wait(), 2)
            except asyncio.TimeoutError:
                pass
        kind = rng.choice(LEAVE_KINDS)
        self.stats[f"leave:{kind}"] += 1
        if kind == "stop_reading":
            task = asyncio.create_task(end_session(c, kind, rng))
            self.parked.add(task)
            task.add_done_callback(self.parked.discard)
        else:
            await end_session(c, kind, rng)

    def summary(self):
        s = self.stats
        leaves = " ".join(f"{k}={s[f'leave:{k}']}" for k in LEAVE_KINDS)
        rest = ", ".join(f"{k}={v}" for k, v in sorted(s.items())
                         if not k.startswith("leave:") and k not in ("sessions", "requests ok"))
        return f"{s['sessions']} sessions, {s['requests ok']} requests ok; leaves: {leaves}; {rest}"


# --- The tests ----------------------------------------------------------------


class ChaosTest(unittest.TestCase):
    def setUp(self):
        self.sfu = start_sfu(SFU)
        self.rng = random.Random(f"{SEED}/{self._testMethodName}")
        self.t0 = time.monotonic()

    def tearDown(self):
        if self.sfu.alive():
            self.sfu.stop(signal.SIGKILL, timeout=5)

    # Failure reporting: every failure names the seed and shows the server's log tail.

    def fail_with(self, what):
        self.fail(f"[seed {SEED}] {what}\nserver: {self.sfu.exit_description()}\n"
                  f"--- last lines of the server's log ---\n{self.sfu.log_tail()}")

    def require(self, condition, what):
        if not condition:
            self.fail_with(what)

    def require_alive(self, during):
        self.require(self.sfu.alive(), f"the server died during {during}")

    def run_async(self, coro, limit, during="the scenario"):
        try:
            return asyncio.run(asyncio.wait_for(coro, limit))
        except AssertionError:
            raise
        except Exception as e:  # a client-side error: the server's state explains it best
            died = "" if self.sfu.alive() else f"the server died during {during}; "
            self.fail_with(f"{died}a client saw {type(e).__name__}: {e}")

    def elapsed(self):
        return f"{time.monotonic() - self.t0:.1f} s"

    # Checks shared by the scenarios.

    def check_serving(self, during, publish_too=True, room=None, token=None):
        """Alive, /healthz 200, and a fresh client can join (and publish)."""
        self.require_alive(during)
        status, _ = self.sfu.http_get("/healthz")
        self.require(status == 200, f"/healthz answered {status} after {during}")

        async def fresh():
            c = await connect_and_join(self.sfu.port, room or "fresh-" + during.split()[0],
                                       **({"token": token} if token else {}))
            if publish_too:
                result = await publish(c, self.rng)
                self.require(len(result["producers"]) == 2, f"fresh publish after {during}: {result['producers']}")
            await end_session(c, "leave", self.rng)

        self.run_async(fresh(), 15)

    def check_rooms_empty(self, rooms, during, token=None):
        """A fresh peer in each room sees nobody and no producer."""
        async def look():
            left_over = {}
            for room in rooms:
                c = await Client.connect(self.sfu.port)
                joined = await c.join(room, **({"token": token} if token else {}))
                if joined["peers"] or joined["producers"]:
                    left_over[room] = (len(joined["peers"]), len(joined["producers"]))
                await end_session(c, "leave", self.rng)
            return left_over

        left_over = self.run_async(look(), 30)
        self.require(not left_over, f"rooms not empty after {during} (room: peers, producers): {left_over}")

    def check_clean_exit(self):
        rc = self.sfu.stop(signal.SIGTERM, timeout=30)
        self.require(rc == 0, f"SIGTERM: expected exit status 0, the server {self.sfu.exit_description()}")

    # a. Random chaos.

    def test_a_random_chaos(self):
        rooms = ["chaos-0", "chaos-1", "chaos-2"]
        chaos = Chaos(self.sfu, self.rng, rooms, clients=40)
        self.run_async(chaos.run(SECONDS), SECONDS + 90, "the random chaos")
        report(f"a random chaos: 40 clients in 3 rooms for {SECONDS:.0f} s: {chaos.summary()} ({self.elapsed()})")
        self.require_alive("the random chaos")
        self.require(chaos.stats["metrics scrapes"] > 0 and chaos.stats["metrics scrape errors"] == 0,
                     f"/metrics during the chaos: {chaos.stats['metrics scrapes']} scrapes, "
                     f"{chaos.stats['metrics scrape errors']} errors")
        time.sleep(1.0)
        self.check_serving("the random chaos")
        self.check_rooms_empty(rooms, "the random chaos")
        self.check_clean_exit()

    # b. Two peers that close at the same moment.

    PAIR_VARIANTS = {  # name: (a floods b just before, how a ends, how b ends)
        "close": (False, "close", "close"),
        "reset": (False, "reset", "reset"),
        "close+reset": (False, "close", "reset"),
        "flood+close": (True, "close", "close"),
        "flood+reset": (True, "reset", "reset"),
        "flood+drop": (True, "drop", "drop"),
    }

    async def pair_round(self, i, variant):
        flood, end_a, end_b = self.PAIR_VARIANTS[variant]
        a = await connect_and_join(self.sfu.port, f"pair-{i}")
        b = await connect_and_join(self.sfu.port, f"pair-{i}")
        await publish(a, self.rng)
        await publish(b, self.rng)
        if flood:  # one burst under the rate limit: the server is still writing to b when it goes
            for _ in range(45):
                a.notify("relay", {"to": b.peer_id, "data": BIG})
        end_now(a, end_a)  # same tick: no await in between
        end_now(b, end_b)
        await asyncio.gather(a.wait_closed(3), b.wait_closed(3))

    def test_b_two_peers_close_at_once(self):
        rounds = collections.Counter()

        async def scenario():
            for i in range(30):
                variant = list(self.PAIR_VARIANTS)[i % len(self.PAIR_VARIANTS)]
                try:
                    await self.pair_round(i, variant)
                    await asyncio.sleep(0.05)
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    if self.sfu.alive():
                        raise
                rounds[variant] += 1
                if not self.sfu.alive():
                    return i, variant
            return None

        died = self.run_async(scenario(), 120, "the paired closes")
        report(f"b two peers close at once: {sum(rounds.values())} rounds {dict(rounds)} ({self.elapsed()})")
        if died:
            self.fail_with(f"the server died in round {died[0]} ({died[1]}: both peers ended in the same tick)")
        self.check_serving("the paired closes")
        self.check_rooms_empty([f"pair-{i}" for i in range(0, 30, 7)], "the paired closes")
        self.check_clean_exit()

    # c. 1,000 clients closing in the same millisecond.

    def test_c_thousand_close_at_once(self):
        if raise_fd_limit() < 1100:  # each process (this one, the server) holds one end of 1,000 sockets
            self.skipTest("RLIMIT_NOFILE's hard limit is too low for 1,000 clients")
        kinds = collections.Counter()

        async def scenario():
            gate = asyncio.Semaphore(64)

            async def one(i):
                async with gate:
                    return await connect_and_join(self.sfu.port, f"crowd-{i % 10}")  # 100 per room: the limit

            results = await asyncio.gather(*(one(i) for i in range(1000)), return_exceptions=True)
            clients = [c for c in results if isinstance(c, Client)]
            failed = [r for r in results if not isinstance(r, Client)]
            if failed:
                for c in clients:
                    c.reset()
                self.fail_with(f"{len(failed)} of 1000 joins failed, e.g. {failed[0]!r}")
            for c in clients:  # all in one tick
                kind = self.rng.choice(("close", "reset", "drop"))
                kinds[kind] += 1
                end_now(c, kind)
            t_closed = time.monotonic()
            await asyncio.gather(*(c.wait_closed(10) for c in clients))
            return t_closed

        t_closed = self.run_async(scenario(), 180, "the 1,000 joins and closes")
        self.require_alive("the 1,000 closes")

        async def rejoin():
            while True:
                try:
                    c = await connect_and_join(self.sfu.port, "after-crowd")
                    await end_session(c, "leave", self.rng)
                    return time.monotonic() - t_closed
                except (ConnectionError, OSError, asyncio.TimeoutError, RpcError):
                    await asyncio.sleep(0.1)

        took = self.run_async(rejoin(), 15)
        report(f"c 1,000 clients closed in one tick: {dict(kinds)}; a new join {took:.2f} s after ({self.elapsed()})")
        limit = 5.0 * TIME_SCALE
        self.require(took <= limit, f"a new join took {took:.1f} s after the 1,000 closes (limit {limit:.0f} s)")
        time.sleep(1.0)
        self.check_serving("the 1,000 closes", publish_too=False)
        self.check_rooms_empty([f"crowd-{i}" for i in range(10)], "the 1,000 closes")
        self.check_clean_exit()

    # d. A client that stops reading while the room floods it.

    def test_d_slow_reader(self):
        r = self.run_async(self.slow_reader(), 90, "the slow-reader flood")
        grew = (r["rss_max"] - r["rss0"]) / 1024
        gone = "never" if r["gone"] is None else f"{r['gone']:.1f} s"
        report(f"d slow reader: {r['sent']['to slow']} x 16 KB relayed at it, {r['sent']['churn']} churn peers; "
               f"removed from the room after: {gone}; then it read {r['slow_bytes'] / 2**20:.1f} MiB and got close "
               f"code {r['slow_code']}; the witness got {r['received']} of {r['sent']['to witness']} relays; "
               f"server RSS +{grew:.0f} MiB ({self.elapsed()})")
        self.require_alive("the slow-reader flood")
        limit_mb = 1024 if self.sfu_has_asan() else 256
        problems = [what for bad, what in (
            (r["errors"], f"flooding clients failed: {r['errors'][:3]}"),
            (r["received"] != r["sent"]["to witness"],
             f"the witness got {r['received']} of {r['sent']['to witness']} relays while the slow peer stalled"),
            (grew >= limit_mb, f"server RSS grew {grew:.0f} MiB during the flood (limit {limit_mb})"),
            (not r["slow_ended"], "the slow reader's connection was still open 20 s after it resumed reading"),
            # A close frame cannot pass a full window: the server may only tear the socket down.
            (r["slow_code"] not in (1008, None), f"the slow reader got close code {r['slow_code']}, expected 1008"),
            (r["gone"] is None, f"the slow reader was still in the room {self.SLOW_GRACE:.0f} s after the flood "
                                f"began (no peerLeft while it did not read): over 8 MiB unsent must end the session"),
        ) if bad]
        self.check_serving("the slow-reader flood")
        self.check_clean_exit()
        self.require(not problems, "; ".join(problems))

    SLOW_GRACE = 15.0  # seconds the flood may take to get the slow reader removed

    async def slow_reader(self):
        """One peer stops reading; ten flood it with 16 KB relays (and relay
        to a witness now and then) while other peers come and go."""
        port = self.sfu.port
        witness = await connect_and_join(port, "slow")
        slow = await Client.connect(port, rcvbuf=4096)
        await slow.join("slow", autoSubscribe=False)  # no offers: no negotiation timeout to remove it
        slow.stop_reading()
        flooders = [await connect_and_join(port, "slow") for _ in range(10)]
        rss0 = self.sfu.rss_kb()
        stop = asyncio.Event()
        sent = collections.Counter()

        async def flood(f):
            while not stop.is_set():
                try:
                    await f.request("relay", {"to": slow.peer_id, "data": BIG})
                    sent["to slow"] += 1
                    if sent["to slow"] % 10 == 0:
                        await f.request("relay", {"to": witness.peer_id, "data": {"n": sent["to witness"]}})
                        sent["to witness"] += 1
                except RpcError as e:
                    if e.code != 4004:
                        raise
                    return  # the slow peer is gone

        async def churn():  # peers coming and going: more notifications for everyone
            while not stop.is_set():
                c = await connect_and_join(port, "slow")
                await publish(c, self.rng)
                await end_session(c, self.rng.choice(("leave", "close", "reset")), self.rng)
                sent["churn"] += 1

        tasks = [asyncio.create_task(flood(f)) for f in flooders] + [asyncio.create_task(churn())]
        rss_max, t0, gone = rss0, time.monotonic(), None
        try:
            while time.monotonic() - t0 < self.SLOW_GRACE and gone is None and self.sfu.alive():
                rss_max = max(rss_max, self.sfu.rss_kb())
                try:
                    await witness.wait_for("peerLeft", lambda p: p["peerId"] == slow.peer_id, timeout=0.25)
                    gone = time.monotonic() - t0
                except asyncio.TimeoutError:
                    pass
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.5)
        received = witness.counts["relayed"]
        slow.resume_reading()
        try:
            await asyncio.wait_for(slow.closed.wait(), 20)
        except asyncio.TimeoutError:
            slow.reset()
        for c in [witness, *flooders]:
            await end_session(c, "close", self.rng)
        return dict(gone=gone, sent=sent, received=received, rss0=rss0, rss_max=rss_max,
                    errors=[r for r in results if isinstance(r, BaseException)],
                    slow_ended=slow.closed.is_set(), slow_code=slow.close_code, slow_bytes=slow.ws.bytes_read)

    def sfu_has_asan(self):
        with open(SFU, "rb") as f:
            return any(b"AddressSanitizer" in chunk for chunk in iter(lambda: f.read(1 << 20), b""))

    # e. One client reconnecting in a loop.

    def test_e_reconnect_loop(self):
        kinds = collections.Counter()

        # With keys, as a deployment runs: every reconnect presents the same token.
        self.sfu.stop(signal.SIGKILL, timeout=5)
        secret = "0123456789abcdef0123456789abcdef"
        self.sfu = start_sfu(SFU, "--api-key", f"main={secret}")
        token = subprocess.run([SFU, "token", "--api-key", f"main={secret}", "--room", "reconnect", "--identity",
                                "looper", "--ttl", "600"], capture_output=True, text=True, check=True).stdout.strip()

        async def scenario():
            port = self.sfu.port
            observer = await connect_and_join(port, "reconnect", token=token)
            for _ in range(200):
                c = await Client.connect(port, room="reconnect", token=token)  # room and token from the query
                await c.join()
                request = self.rng.choice(("getStats", "relay", "trickle"))
                params = {"to": observer.peer_id, "data": "hi"} if request == "relay" else {}
                await c.request(request, params)
                kind = self.rng.choice(LEAVE_KINDS)
                kinds[kind] += 1
                await end_session(c, kind, self.rng, linger=(0, 0.05))
            try:
                await observer.wait_for("peerLeft", lambda p: observer.counts["peerLeft"] >= 200, timeout=10)
            except asyncio.TimeoutError:
                pass
            counts = observer.counts
            await end_session(observer, "leave", self.rng)
            return counts

        counts = self.run_async(scenario(), 120, "the reconnect loop")
        report(f"e reconnect loop: 200 sessions with one token {dict(kinds)}; the observer saw {counts['peerJoined']} joins, "
               f"{counts['peerLeft']} leaves, {counts['relayed']} relays ({self.elapsed()})")
        self.require_alive("the reconnect loop")
        self.require(counts["peerJoined"] == 200 and counts["peerLeft"] == 200,
                     f"the observer saw {counts['peerJoined']} peerJoined and {counts['peerLeft']} peerLeft of 200")
        self.check_rooms_empty(["reconnect"], "the reconnect loop", token=token)
        self.check_serving("the reconnect loop", publish_too=False, room="reconnect", token=token)
        self.check_clean_exit()

    # f. Media in one room must not notice the chaos in the others.

    def test_f_untouched_media(self):
        if not SFU_LOAD:
            self.skipTest("no PATH_TO_SFU_LOAD given")
        duration = max(5.0, min(SECONDS, 15.0))

        async def load_run():
            proc = await asyncio.create_subprocess_exec(
                SFU_LOAD, "--url", f"ws://127.0.0.1:{self.sfu.port}/ws", "--rooms", "1", "--publishers", "2",
                "--subscribers", "2", "--duration", str(duration), "--json", "--server-pid", str(self.sfu.pid),
                "--room-prefix", "media", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await proc.communicate()
            finally:
                if proc.returncode is None:  # cancelled by a timeout
                    proc.kill()
                    await proc.wait()
            if proc.returncode != 0:
                self.fail_with(f"sfu-load exited with {proc.returncode}:\n{err.decode()[-2000:]}")
            return json.loads(out)

        async def with_chaos():
            stop = asyncio.Event()
            chaos = Chaos(self.sfu, self.rng, ["chaos-0", "chaos-1", "chaos-2"], clients=40)
            chaos_task = asyncio.create_task(chaos.run(duration + 60, stop))
            try:
                return await load_run(), chaos
            finally:
                stop.set()
                await chaos_task

        quiet = self.run_async(load_run(), duration + 60)
        loud, chaos = self.run_async(with_chaos(), duration + 120)
        q, l = quiet["server"]["packetsOutPerSecond"], loud["server"]["packetsOutPerSecond"]
        report(f"f media beside chaos: server packets out {q:.0f}/s quiet, {l:.0f}/s with chaos "
               f"({l / q * 100 if q else 0:.0f} %); tracks {loud['tracksReceived']}/{loud['tracksExpected']}, "
               f"loss {loud['lossPercent']:.3f} %; chaos: {chaos.summary()} ({self.elapsed()})")
        self.require_alive("media beside chaos")
        for name, r in (("quiet", quiet), ("with chaos", loud)):
            self.require(r["tracksReceived"] == r["tracksExpected"] and r["failedParticipants"] == 0,
                         f"{name}: tracks {r['tracksReceived']} of {r['tracksExpected']}, failures {r['failures']}")
            self.require(r["lossPercent"] <= 0.5, f"{name}: loss {r['lossPercent']:.3f} % (limit 0.5 %)")
        if quiet["void"] or loud["void"]:
            report("f: a run is void (the load generator was CPU-bound): packets/s not compared")
        else:
            self.require(l >= 0.8 * q, f"with chaos the server forwarded {l:.0f} packets/s, under 80 % of {q:.0f}")
        self.check_clean_exit()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    SFU = sys.argv.pop(1)
    if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]):  # what follows is for unittest (-k, test names)
        SFU_LOAD = sys.argv.pop(1)
    report(f"seed {SEED} (SFU_CHAOS_SEED={SEED} replays the choices), SFU_CHAOS_SECONDS={SECONDS:g}")
    unittest.main(verbosity=2)
