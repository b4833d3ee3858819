#!/usr/bin/env python3
"""Signaling rules a long-lived session depends on, checked with the
protocol client (sfu_client.py) against the real binary:

- 200 publishers churn through a room in front of one subscriber: the
  subscriber is never kicked, its offers stay bounded (removed sections are
  recycled with new mids, JSEP §5.2.2), and no mid is ever reused.
- The per-peer consumer cap: subscribe beyond it is 4014 consumer_limit.
- A first publish that yields nothing is an error: 4100 when nothing is
  supported, 4003 when the token's grants forbid what it offers.

usage: signaling_rules_test.py PATH_TO_SFU
"""
import asyncio
import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

SFU = None
MAX_CONSUMERS = 50  # signaling/room.hpp max_consumers_per_peer


def sections(sdp):
    """[(mid, kind, port)] of an SDP's m-sections, in order."""
    out = []
    for s in sfu_client.split_sections(sdp):
        kind, port = s[0][2:].split()[:2]
        mid = next((l[6:] for l in s if l.startswith("a=mid:")), None)
        out.append((mid, kind, int(port)))
    return out


class OfferLog:
    """Answers every subscriberOffer of one client at once and checks the
    JSEP rules on the sequence of offers: m-lines never move, a mid never
    comes back once replaced, a section's kind changes only with a new mid."""

    def __init__(self, client):
        self.client = client
        self.ufrag, self.pwd = sfu_client.random_ice()
        self.previous = []  # [(mid, kind, port)] of the last offer
        self.retired = set()  # mids that were replaced by a recycled section
        self.max_sections = 0
        self.offers = 0
        self.errors = []
        client.on_notification = self.on_notification

    def on_notification(self, msg):
        if msg["method"] == "subscriberOffer":
            asyncio.get_running_loop().create_task(self.answer(msg["params"]))

    def check(self, now):
        for i, (mid, kind, port) in enumerate(now):
            if mid in self.retired:
                self.errors.append(f"offer {self.offers}: mid {mid} came back")
            if i < len(self.previous) and self.previous[i][0] != mid:
                old_mid, _, old_port = self.previous[i]
                if old_port != 0:
                    self.errors.append(f"offer {self.offers}: live section {old_mid} replaced by {mid}")
                self.retired.add(old_mid)
        if len(now) < len(self.previous):
            self.errors.append(f"offer {self.offers}: {len(self.previous)} sections shrank to {len(now)}")

    async def answer(self, params):
        now = sections(params["sdp"])
        self.offers += 1
        self.check(now)
        self.previous = now
        self.max_sections = max(self.max_sections, len(now))
        live = {c["mid"] for c in params["consumers"]}
        if live != {mid for mid, kind, port in now if port != 0 and kind != "application"}:
            self.errors.append(f"offer {self.offers}: consumers {sorted(live)} do not match the live sections")
        answer = sfu_client.answer_for(params["sdp"], self.ufrag, self.pwd)
        try:
            await self.client.request("subscriberAnswer", {"sdp": answer}, timeout=10)
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            self.errors.append(f"offer {self.offers}: subscriberAnswer failed: {e!r}")


async def publisher(port, room, rng):
    c = await sfu_client.Client.connect(port)
    await c.join(room)
    ufrag, pwd = sfu_client.random_ice(rng)
    result = await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd, rng=rng)})
    return c, [p["producerId"] for p in result["producers"]]


class SignalingRulesTest(unittest.TestCase):
    def setUp(self):
        self.sfu = sfu_client.start_sfu(SFU, workers=1)

    def tearDown(self):
        if self.sfu.alive():
            self.sfu.stop()

    def test_churn_of_200_publishers_before_one_subscriber(self):
        seed = int(os.environ.get("SFU_CHURN_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        concurrency = 4

        async def run():
            watcher = await sfu_client.Client.connect(self.sfu.port)
            await watcher.join("churn")
            log = OfferLog(watcher)
            slots = asyncio.Semaphore(concurrency)

            async def one(i):
                async with slots:
                    c, producers = await publisher(self.sfu.port, "churn", rng)
                    # Until the watcher's offer carries them (or briefly, when it lags).
                    try:
                        await watcher.wait_for("subscriberOffer", timeout=3,
                                               pred=lambda p: any(x["producerId"] in producers for x in p["consumers"]))
                    except asyncio.TimeoutError:
                        pass
                    how = rng.choice(["leave", "close", "reset"])
                    if how == "leave":
                        await c.request("leave")
                        await c.wait_closed()
                    elif how == "close":
                        await c.close_clean()
                    else:
                        c.reset()

            failures = [r for r in await asyncio.gather(*(one(i) for i in range(200)), return_exceptions=True) if r]
            if failures or not self.sfu.alive():
                self.fail(f"seed {seed}: {len(failures)} publishers failed ({failures[:3]}); the server "
                          f"{self.sfu.exit_description()}\n{self.sfu.log_tail()}")
            # Everyone is gone: one last offer with every section removed.
            await asyncio.sleep(1.0)
            stats = await watcher.request("getStats")
            kicked = watcher.counts["kicked"]
            closed = watcher.closed.is_set()
            final = log.previous
            await watcher.close_clean()
            return log, kicked, closed, final, stats

        log, kicked, closed, final, stats = asyncio.run(run())
        print(f"churn seed {seed}: {log.offers} offers, at most {log.max_sections} m-sections, "
              f"{len(log.retired)} sections recycled")
        self.assertTrue(self.sfu.alive(), self.sfu.log_tail())
        self.assertEqual(kicked, 0, f"seed {seed}: the subscriber was kicked\n{self.sfu.log_tail()}")
        self.assertFalse(closed, f"seed {seed}: the subscriber's socket closed")
        self.assertEqual(log.errors, [], f"seed {seed}")
        # Live consumers never exceed 2 × concurrency (a leaving publisher's
        # may linger while the next joins: 2 more lanes' worth); sections stay
        # within three times that plus the application section (peer.hpp).
        self.assertLessEqual(log.max_sections, 3 * (2 * (concurrency + 2)) + 1, f"seed {seed}")
        self.assertGreater(len(log.retired), 150, f"seed {seed}: sections were not recycled")
        self.assertTrue(all(port == 0 for mid, kind, port in final if kind != "application"), final)
        self.assertEqual(stats["consumers"], [], stats)

    def test_consumer_cap(self):
        async def run():
            pubs = [await publisher(self.sfu.port, "cap", random.Random(i)) for i in range(26)]
            producers = [p for _, ps in pubs for p in ps]  # 52: audio + video each
            viewer = await sfu_client.Client.connect(self.sfu.port)
            await viewer.join("cap", autoSubscribe=False)
            with self.assertRaises(sfu_client.RpcError) as e:
                await viewer.request("subscribe", {"producerIds": producers})
            self.assertEqual(e.exception.code, 4014)
            self.assertEqual(e.exception.reason, "consumer_limit")
            await viewer.request("subscribe", {"producerIds": producers[:MAX_CONSUMERS]})
            offer = await viewer.wait_for("subscriberOffer", timeout=5)
            self.assertEqual(len(offer["consumers"]), MAX_CONSUMERS)
            with self.assertRaises(sfu_client.RpcError) as e:
                await viewer.request("subscribe", {"producerIds": producers[MAX_CONSUMERS:]})
            self.assertEqual(e.exception.code, 4014)
            # An auto-subscribing peer takes the first 50 and is not refused.
            auto = await sfu_client.Client.connect(self.sfu.port)
            await auto.join("cap")
            offer = await auto.wait_for("subscriberOffer", timeout=5)
            self.assertEqual(len(offer["consumers"]), MAX_CONSUMERS)
            for c in [viewer, auto] + [c for c, _ in pubs]:
                c.reset()

        asyncio.run(run())
        self.assertTrue(self.sfu.alive(), self.sfu.log_tail())

    def test_publish_without_anything_supported_is_4100(self):
        async def run():
            c = await sfu_client.Client.connect(self.sfu.port)
            await c.join("bad-publish")
            ufrag, pwd = sfu_client.random_ice()
            offer = sfu_client.publish_offer(ufrag, pwd, audio=False).replace(
                "a=rtpmap:96 VP8/90000", "a=rtpmap:96 FOOCODEC/90000").replace("a=rtpmap:97 rtx/90000", "")
            offer = "\r\n".join(l for l in offer.split("\r\n") if not l.startswith("a=fmtp:97"))
            with self.assertRaises(sfu_client.RpcError) as e:
                await c.request("publish", {"sdp": offer})
            self.assertEqual((e.exception.code, e.exception.reason), (4100, "bad_sdp"))
            # recvonly-only is nothing to publish either
            recv = sfu_client.publish_offer(ufrag, pwd).replace("a=sendonly", "a=recvonly")
            with self.assertRaises(sfu_client.RpcError) as e:
                await c.request("publish", {"sdp": recv})
            self.assertEqual(e.exception.code, 4100)
            # and a good offer still works afterwards
            good = await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd)})
            self.assertEqual(len(good["producers"]), 2)
            await c.close_clean()

        asyncio.run(run())


class PublishGrantsTest(unittest.TestCase):
    SECRET = "0123456789abcdef0123456789abcdef"

    def setUp(self):
        self.sfu = sfu_client.start_sfu(SFU, "--api-key", f"main={self.SECRET}", workers=1)

    def tearDown(self):
        if self.sfu.alive():
            self.sfu.stop()

    def token(self, grants):
        return subprocess.run([SFU, "token", "--api-key", f"main={self.SECRET}", "--room", "grants",
                               "--identity", "ana", "--grants", grants],
                              capture_output=True, text=True, check=True).stdout.strip()

    def test_publish_forbidden_by_grants_is_4003(self):
        async def run():
            c = await sfu_client.Client.connect(self.sfu.port)
            await c.join("grants", token=self.token("publishData,subscribe"))
            ufrag, pwd = sfu_client.random_ice()
            with self.assertRaises(sfu_client.RpcError) as e:
                await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd)})
            self.assertEqual((e.exception.code, e.exception.reason), (4003, "forbidden"))
            # The data channel it may publish is accepted, the media rejected.
            r = await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd, data=True)})
            self.assertEqual(r["producers"], [])
            ports = [port for mid, kind, port in sections(r["sdp"])]
            self.assertEqual(ports[:2], [0, 0])
            self.assertNotEqual(ports[2], 0)
            await c.close_clean()

        asyncio.run(run())


if __name__ == "__main__":
    SFU = sys.argv.pop(1)
    unittest.main(verbosity=2)
