#!/usr/bin/env python3
"""Churn soak: peers join, publish, subscribe and leave at a steady rate for
N seconds against a real sfu (build it with ASan+LSan to catch leaks), while
sfu-load (optional) keeps a call with real media running in another room.

Every --interval seconds it prints the server's RSS, open descriptors and
what lives on it (GET /stats: sessions, rooms, peers, transports, producers,
consumers, data channels). It fails on:
- a crash (the server's exit status and log tail are printed),
- anything left behind once the churning peers are gone (the /stats gauges
  and the descriptor count must come back to their values before the
  churn), and everything at zero once sfu-load has left too,
- RSS growth after warm-up (the first third of the run) beyond
  --rss-growth-mb plus --rss-growth-pct of the warm-up RSS,
- sfu-load reporting loss or missing tracks (media disturbed by the churn),
- an exit status other than 0 after SIGTERM (under ASan, LSan's leak report
  makes it non-zero).

usage: churn_soak.py --sfu build-san/server/sfu [--sfu-load build/bench/load/sfu-load]
                     [--seconds 1200] [--lanes 12] [--interval 10] [--seed N]
"""
import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
from sfu_client import Client, ConnectionClosed, RpcError, answer_for, publish_offer, random_ice, start_sfu  # noqa: E402

GAUGES = ("sessions", "rooms", "peers", "transports", "producers", "consumers", "dataProducers", "dataConsumers")
LEAVES = ("leave", "close", "reset", "drop", "half_close")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sfu", required=True, help="the sfu binary (an ASan build finds leaks)")
    p.add_argument("--sfu-load", help="sfu-load binary: a call with real media beside the churn")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--lanes", type=int, default=12, help="peers churning at once")
    p.add_argument("--rooms", type=int, default=4)
    p.add_argument("--interval", type=float, default=10)
    p.add_argument("--rss-growth-mb", type=float, default=24)
    p.add_argument("--rss-growth-pct", type=float, default=10)
    p.add_argument("--seed", type=int, default=random.SystemRandom().randrange(1 << 31))
    return p.parse_args()


class Soak:
    def __init__(self, args, sfu):
        self.args, self.sfu = args, sfu
        self.rng = random.Random(args.seed)
        self.churned = 0
        self.errors = []
        self.counts = {}

    def stats(self):
        status, body = self.sfu.http_get("/stats")
        if status != 200:
            raise RuntimeError(f"/stats answered {status}")
        return json.loads(body)

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.sfu.pid}/fd"))
        except OSError:
            return -1

    def sample(self, t0):
        s = self.stats()
        row = [f"{time.monotonic() - t0:7.0f}", f"{self.sfu.rss_kb() / 1024:8.1f}", f"{self.fds():5d}",
               f"{self.churned:7d}"] + [f"{s[g]:6d}" for g in GAUGES]
        print(" ".join(row), flush=True)
        return s

    async def lane(self, rng, deadline):
        while time.monotonic() < deadline and self.sfu.alive():
            try:
                await asyncio.wait_for(self.one_peer(rng), 30)
            except (ConnectionError, OSError, asyncio.TimeoutError, RpcError) as e:
                self.counts[type(e).__name__] = self.counts.get(type(e).__name__, 0) + 1
                await asyncio.sleep(0.2)

    async def one_peer(self, rng):
        room = f"soak-{rng.randrange(self.args.rooms)}"
        c = await Client.connect(self.sfu.port)
        ice = random_ice(rng)
        answered = []

        def on_notification(msg):
            if msg["method"] == "subscriberOffer":
                task = asyncio.get_running_loop().create_task(
                    c.request("subscriberAnswer", {"sdp": answer_for(msg["params"]["sdp"], *ice, rng=rng)}))
                # An answer racing the peer's own leave may fail: expected, not reported.
                task.add_done_callback(lambda t: t.cancelled() or t.exception())
                answered.append(task)

        c.on_notification = on_notification
        try:
            await c.join(room)
            if rng.random() < 0.7:
                await c.request("publish", {"sdp": publish_offer(*ice, data=rng.random() < 0.3, rng=rng)})
            await asyncio.sleep(rng.uniform(1, 6))
            if rng.random() < 0.3:
                await c.request("getStats")
            how = rng.choice(LEAVES)
            self.counts[how] = self.counts.get(how, 0) + 1
            if how == "leave":
                await c.request("leave")
                await c.wait_closed()
            elif how == "close":
                await c.close_clean()
            elif how == "half_close":
                await c.half_close()
            else:
                getattr(c, how)()
        finally:
            self.churned += 1
            for t in answered:
                t.cancel()
            if not c.closed.is_set():
                c.reset()

    async def churn(self, seconds, t0):
        deadline = time.monotonic() + seconds
        lanes = [asyncio.create_task(self.lane(random.Random(self.rng.getrandbits(64)), deadline))
                 for _ in range(self.args.lanes)]
        samples = []
        pending = set(lanes)
        while pending and self.sfu.alive():
            _, pending = await asyncio.wait(pending, timeout=self.args.interval)
            if self.sfu.alive():
                samples.append((time.monotonic() - t0, self.sfu.rss_kb(), self.sample(t0)))
        await asyncio.gather(*lanes, return_exceptions=True)
        return samples


def start_load(args, port, pid, seconds):
    if not args.sfu_load:
        return None
    return subprocess.Popen([args.sfu_load, "--url", f"ws://127.0.0.1:{port}/ws", "--rooms", "1",
                             "--publishers", "2", "--subscribers", "2", "--duration", str(int(seconds)),
                             "--ramp", "1", "--server-pid", str(pid), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def settle(soak, want, what, timeout=10.0):
    """Waits until every /stats gauge equals `want`; returns the last sample."""
    deadline = time.monotonic() + timeout
    while True:
        s = soak.stats()
        if all(s[g] == want[g] for g in GAUGES) or time.monotonic() > deadline:
            if not all(s[g] == want[g] for g in GAUGES):
                diff = {g: (want[g], s[g]) for g in GAUGES if s[g] != want[g]}
                soak.errors.append(f"{what}: left behind (expected, found): {diff}")
            return s
        time.sleep(0.2)


def main():
    args = parse_args()
    env = {}
    if "quarantine_size_mb" not in os.environ.get("ASAN_OPTIONS", ""):
        # ASan keeps freed memory in a 256 MB quarantine by default: RSS would
        # grow by that much whatever the server does.
        env["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=8") if x)
    sfu = start_sfu(args.sfu, env=env, workers=2)
    soak = Soak(args, sfu)
    print(f"churn soak: seed {args.seed}, {args.seconds:.0f} s, {args.lanes} lanes over {args.rooms} rooms, "
          f"server pid {sfu.pid}", flush=True)
    load = start_load(args, sfu.port, sfu.pid, args.seconds + 20)
    if load:
        time.sleep(8)  # the call is up before the churn starts
    baseline = soak.stats()
    base_fds = soak.fds()
    print("      t   rss_MB   fds churned " + " ".join(f"{g[:6]:>6}" for g in GAUGES), flush=True)
    t0 = time.monotonic()
    soak.sample(t0)
    samples = asyncio.run(soak.churn(args.seconds, t0))
    status = 0
    if not sfu.alive():
        print(f"FAIL: the server {sfu.exit_description()} (seed {args.seed})\n{sfu.log_tail()}")
        return 1
    after_churn = settle(soak, baseline, "after the churn")
    fds = soak.fds()
    if fds > base_fds + 2:
        soak.errors.append(f"descriptors: {base_fds} before the churn, {fds} after")
    warm = [rss for t, rss, _ in samples if t >= args.seconds / 3]
    if warm:
        bound = warm[0] * (1 + args.rss_growth_pct / 100) + args.rss_growth_mb * 1024
        if max(warm) > bound:
            soak.errors.append(f"RSS grew from {warm[0] / 1024:.1f} MB (after warm-up) to {max(warm) / 1024:.1f} MB, "
                               f"over the bound {bound / 1024:.1f} MB")
        print(f"RSS after warm-up {warm[0] / 1024:.1f} MB, peak {max(warm) / 1024:.1f} MB, "
              f"end {warm[-1] / 1024:.1f} MB (bound {bound / 1024:.1f} MB)")
    if load:
        out, err = load.communicate(timeout=args.seconds + 120)
        try:
            report = json.loads(out)
            print(f"sfu-load: {report.get('tracksReceived')}/{report.get('tracksExpected')} tracks, "
                  f"loss {report.get('lossPercent')} %, failed {report.get('failedParticipants')}")
            if report.get("tracksReceived") != report.get("tracksExpected") or report.get("failedParticipants"):
                soak.errors.append("sfu-load: missing tracks or failed participants")
            if (report.get("lossPercent") or 0) > 0.5:
                soak.errors.append(f"sfu-load: loss {report.get('lossPercent')} %")
        except ValueError:
            soak.errors.append(f"sfu-load exited {load.returncode} without a report:\n{err[-2000:]}")
        settle(soak, {g: 0 for g in GAUGES}, "after sfu-load left")
    print(f"churned {soak.churned} peers; " + ", ".join(f"{k} {v}" for k, v in sorted(soak.counts.items())))
    rc = sfu.stop(signal.SIGTERM, timeout=60)
    if rc != 0:
        soak.errors.append(f"the server {sfu.exit_description()} after SIGTERM\n{sfu.log_tail()}")
    for e in soak.errors:
        print(f"FAIL: {e} (seed {args.seed})")
        status = 1
    print("churn soak: " + ("FAILED" if status else "passed") + f" (after the churn: {after_churn})")
    return status


if __name__ == "__main__":
    sys.exit(main())
