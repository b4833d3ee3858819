#!/usr/bin/env python3
"""bench/compare_step.py: the verdict of a compare.sh step over its repeats
(every repeat must hold; the server's CPU limit is named first), and the
.dat line compare_summary.py reads."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
STEP = os.path.join(HERE, "..", "..", "bench", "compare_step.py")
sys.path.insert(0, os.path.dirname(STEP))
import compare_step  # noqa: E402


def report(cpu=50.0, pps=10000.0, loss=0.0, failed=0, tracks=10, expected=10, void=False, rss=30.0, rcvbuf=0,
           rate=1.0, off_rate=0):
    return {
        "videoRateRatio": {"p50": rate, "min": rate, "count": 4},
        "expectedVideoBps": 2500000,
        "tracksOffRate": off_rate,
        "server": {"cpuPercentAvg": cpu + 5, "packetsOutPerSecond": pps - 100, "rssMaxMb": rss},
        "steady": {"seconds": 7.0, "serverCpuPercent": cpu, "packetsOutPerSecond": pps},
        "latencyMs": {"p50": 3.0, "p99": 30.0},
        "lossPercent": loss,
        "failedParticipants": failed,
        "tracksReceived": tracks,
        "tracksExpected": expected,
        "void": void,
        "machine": {"udpRcvbufDrops": rcvbuf},
    }


def verdict(*reports):
    return compare_step.step(64, [compare_step.run_metrics(r) for r in reports])


class Verdict(unittest.TestCase):
    def test_every_repeat_within_limits_holds(self):
        line, v = verdict(report(cpu=40), report(cpu=50), report(cpu=45))
        self.assertEqual(v, "ok")
        cols = line.split()
        self.assertEqual(len(cols), 18)
        self.assertEqual(float(cols[1]), 45.0)  # median CPU of the steady windows
        self.assertEqual(cols[15], "1")

    def test_one_repeat_over_the_cpu_limit_stops_the_step_and_says_so(self):
        line, v = verdict(report(cpu=60), report(cpu=91, loss=2.0), report(cpu=70))
        self.assertTrue(v.startswith("stop server CPU 91.0 %"), v)
        self.assertEqual(line.split()[15], "0")

    def test_a_server_on_two_cores_may_use_90_percent_of_each(self):
        import importlib
        os.environ["COMPARE_CPU_CORES"] = "2"
        try:
            importlib.reload(compare_step)
            self.assertEqual(verdict(report(cpu=150))[1], "ok")
            v = verdict(report(cpu=181))[1]
            self.assertTrue(v.startswith("stop server CPU 181.0 % >= 180 %"), v)
        finally:
            del os.environ["COMPARE_CPU_CORES"]
            importlib.reload(compare_step)
        self.assertTrue(verdict(report(cpu=150))[1].startswith("stop server CPU"))

    def test_loss_below_the_cpu_limit_is_named_as_loss(self):
        _, v = verdict(report(cpu=40), report(cpu=45, loss=1.5))
        self.assertTrue(v.startswith("stop loss 1.500 %"), v)

    def test_failures_missing_tracks_and_void(self):
        self.assertIn("failed", verdict(report(), report(failed=1))[1])
        self.assertIn("tracks missing: 8/10", verdict(report(tracks=8))[1])
        self.assertIn("VOID", verdict(report(void=True))[1])

    def test_video_off_the_layers_rate_stops_the_step(self):
        # Half the top layer at one repeat (a server that dropped layers):
        # not the same media, so the step fails and says why.
        line, v = verdict(report(), report(rate=0.5, off_rate=12), report(rate=0.97))
        self.assertTrue(v.startswith("stop video off the layer's rate: 12 track(s)"), v)
        self.assertIn("0.50x", v)
        cols = line.split()
        self.assertEqual(cols[15], "0")
        self.assertAlmostEqual(float(cols[16]), 0.5)
        self.assertEqual(cols[17], "12")
        # Video expected but nothing measured: no evidence of equal media.
        unmeasured = report()
        unmeasured["videoRateRatio"]["count"] = 0
        self.assertTrue(verdict(report(), unmeasured)[1].startswith("stop no video rate measured"))
        # CPU still comes first.
        self.assertTrue(verdict(report(cpu=95), report(off_rate=3))[1].startswith("stop server CPU"))

    def test_cpu_per_packet_min_median_rss_and_rcvbuf(self):
        line, _ = verdict(report(cpu=40, pps=10000, rcvbuf=3), report(cpu=50, pps=10000, rcvbuf=4),
                          report(cpu=60, pps=10000, rss=50))
        cols = [float(c) for c in line.split()]
        # 40 % of a core for 10,000 packets/s: 40 us per packet, 40 ms per 1,000.
        self.assertAlmostEqual(cols[10], 40.0)
        self.assertAlmostEqual(cols[11], 50.0)
        self.assertEqual(cols[12], 30.0)
        self.assertEqual(cols[13], 7)
        self.assertEqual(cols[14], 3)

    def test_the_command_line(self):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, cpu in enumerate((40, 95)):
                p = os.path.join(d, f"r{i}.json")
                with open(p, "w") as f:
                    json.dump(report(cpu=cpu), f)
                paths.append(p)
            out = subprocess.run([sys.executable, STEP, "128", *paths], capture_output=True, text=True, check=True)
            line, v = out.stdout.strip().split("\n")
            self.assertEqual(line.split()[0], "128")
            self.assertTrue(v.startswith("stop server CPU 95.0 %"))
            bad = subprocess.run([sys.executable, STEP, "128", os.path.join(d, "missing.json")], capture_output=True)
            self.assertEqual(bad.returncode, 1)


if __name__ == "__main__":
    unittest.main()
