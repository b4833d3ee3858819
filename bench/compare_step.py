#!/usr/bin/env python3
"""One step of bench/compare.sh from its repeats: the sfu-load JSON reports
of the same step (same server, same number of subscribers) run R times.

    python3 bench/compare_step.py N report-1.json report-2.json ...

Prints two lines:
  1. the step's .dat line (compare_summary.py reads it): subscribers, server
     CPU % (median), packets/s out (median), loss % (worst), latency p50 and
     p99 ms (median), failed participants (worst), tracks received (fewest),
     tracks expected, VOID (any), CPU ms per 1,000 forwarded packets (min and
     median), server RSS MB (median), kernel receive-buffer drops (sum),
     repeats, holds (1 when the verdict is "ok"), video rate / layer rate
     (lowest of the repeats' medians), video tracks off the layer's rate
     (most);
  2. the verdict: "ok", or "stop <reason>" naming the limit a repeat hit,
     server CPU first (the server's own limit), then loss, failures,
     missing tracks, video off the layer's rate and a CPU-bound load
     generator (VOID).

A step holds only when every repeat is within the limits: loss <= 1 %,
server CPU < 90 % of its core, nobody failed, every track arrived (and kept
arriving: sfu-load's liveness rule), every video track's steady bitrate is
within 10 % of the layer's (sfu-load --layer: both servers forward the same
media, so CPU per packet compares equal work), and the generator is not the
bottleneck. CPU and packets/s come from sfu-load's
steady window (after the ramp) when it has one."""
import json, os
import statistics
import sys

LOSS_LIMIT = 1.0  # %
# % of one core, per core the server may use (compare.sh --cpu 0,1: 180 %).
CPU_LIMIT = 90.0 * max(1, int(os.environ.get("COMPARE_CPU_CORES", "1")))


def run_metrics(report):
    s = report.get("server", {})
    lat = report.get("latencyMs", {})
    st = report.get("steady", {})
    cpu, pps = s.get("cpuPercentAvg", 0.0), s.get("packetsOutPerSecond", 0.0)
    if st.get("seconds", 0) > 0:
        pps = st.get("packetsOutPerSecond", pps)
        if st.get("serverCpuPercent", -1) >= 0:
            cpu = st["serverCpuPercent"]
    return {
        "cpu": float(cpu),
        "pps": float(pps),
        "loss": float(report.get("lossPercent", 100.0)),
        "p50": float(lat.get("p50", 0.0)),
        "p99": float(lat.get("p99", 0.0)),
        "failed": int(report.get("failedParticipants", 0)),
        "tracks": int(report.get("tracksReceived", 0)),
        "expected": int(report.get("tracksExpected", 0)),
        "void": bool(report.get("void", False)),
        "ms_per_k": (cpu / 100.0) / pps * 1e6 if pps > 0 else float("nan"),
        "rss": float(s.get("rssMaxMb", 0.0)),
        "rcvbuf": int(report.get("machine", {}).get("udpRcvbufDrops", 0)),
        "rate": float(report.get("videoRateRatio", {}).get("p50", 0.0)),
        "rate_min": float(report.get("videoRateRatio", {}).get("min", 0.0)),
        "off_rate": int(report.get("tracksOffRate", 0)),
        "rate_count": int(report.get("videoRateRatio", {}).get("count", 0)),
        "video_expected": float(report.get("expectedVideoBps", 0)) > 0,
    }


def verdict(runs):
    """'ok' or 'stop <reason>' for the repeats of one step."""
    worst_cpu = max(r["cpu"] for r in runs)
    if worst_cpu >= CPU_LIMIT:
        return f"stop server CPU {worst_cpu:.1f} % >= {CPU_LIMIT:.0f} % (90 % of each of its cores)"
    worst_loss = max(r["loss"] for r in runs)
    if worst_loss > LOSS_LIMIT:
        return f"stop loss {worst_loss:.3f} % > {LOSS_LIMIT:.0f} % (server CPU {worst_cpu:.1f} %)"
    if any(r["failed"] for r in runs):
        return f"stop {max(r['failed'] for r in runs)} participant(s) failed"
    short = [r for r in runs if r["tracks"] < r["expected"]]
    if short:
        return f"stop tracks missing: {min(r['tracks'] for r in short)}/{short[0]['expected']} received"
    if any(r["video_expected"] and r["rate_count"] == 0 for r in runs):
        return "stop no video rate measured (no steady window, or every track late): not shown to be the same media"
    off = [r for r in runs if r["off_rate"] > 0]
    if off:
        worst = max(off, key=lambda r: r["off_rate"])
        return (f"stop video off the layer's rate: {worst['off_rate']} track(s) beyond 10 %, "
                f"lowest {worst['rate_min']:.2f}x (not the same media: CPU per packet would not compare)")
    if any(r["void"] for r in runs):
        return "stop the load generator is the bottleneck (VOID): the server is not what was measured"
    return "ok"


def step(n, runs):
    med = statistics.median
    line = [
        n,
        med(r["cpu"] for r in runs),
        med(r["pps"] for r in runs),
        max(r["loss"] for r in runs),
        med(r["p50"] for r in runs),
        med(r["p99"] for r in runs),
        max(r["failed"] for r in runs),
        min(r["tracks"] for r in runs),
        runs[0]["expected"],
        1 if any(r["void"] for r in runs) else 0,
        min(r["ms_per_k"] for r in runs),
        med(r["ms_per_k"] for r in runs),
        med(r["rss"] for r in runs),
        sum(r["rcvbuf"] for r in runs),
        len(runs),
    ]
    v = verdict(runs)
    line.append(1 if v == "ok" else 0)
    line.append(min(r["rate"] for r in runs))
    line.append(max(r["off_rate"] for r in runs))
    return " ".join(f"{x:.6g}" if isinstance(x, float) else str(x) for x in line), v


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    n = int(argv[1])
    runs = []
    for path in argv[2:]:
        try:
            with open(path) as f:
                runs.append(run_metrics(json.load(f)))
        except (OSError, ValueError) as e:
            print(f"compare_step: {path}: {e}", file=sys.stderr)
            return 1
    line, v = step(n, runs)
    print(line)
    print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
