#!/usr/bin/env python3
"""The summary table of bench/compare.sh from its output directory (the
calibration JSON and one .dat line per step and server):

    python3 bench/compare_summary.py OUT

.dat columns (bench/compare_step.py, one line per step over its repeats):
subscribers, server CPU % (median), packets/s out (median), loss % (worst),
latency p50 ms, p99 ms, failed participants, tracks received, tracks
expected, VOID, CPU ms per 1,000 packets min and median, RSS MB, kernel
receive-buffer drops, repeats, holds. A step holds when every repeat stayed
within the limits; each server's last such step is compared, by the median
of its repeats. RSS per participant is the least-squares slope of the
server's RSS over the participants (subscribers + 2 publishers) of every step.
"""
import json, os, sys
out = sys.argv[1]
cal = json.load(open(os.path.join(out, "calibrate.json")))
floor = cal["forward_pps_per_core"]
def best(name):
    path = os.path.join(out, name + ".dat")
    if not os.path.exists(path):
        return None
    rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
    ok = [r for r in rows if r[15] == 1]
    if not ok:
        return None
    n, cpu, pps, loss, p50, p99 = ok[-1][:6]
    per_core = pps / (cpu / 100.0) if cpu > 0 else float("nan")
    stop = open(os.path.join(out, name + ".stop")).read().strip()
    return dict(n=n, cpu=cpu, pps=pps, p50=p50, p99=p99, ms_per_k=ok[-1][11], ms_per_k_min=ok[-1][10],
                frac=per_core / floor, stop=stop, rcvbuf=ok[-1][13], repeats=ok[-1][14],
                rss_per_participant=rss_slope(rows), rows={int(r[0]): r for r in ok})


def rss_slope(rows):
    pts = [(r[0] + 2, r[12]) for r in rows if r[12] > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else float("nan")
res = {k: best(k) for k in ("sfu", "janus")}
print("\n== summary (rooms of 2 publishers, one core per server)")
print(f"loopback floor: {cal['forward_us_per_packet']:.3f} us per received+sent packet = {floor:,.0f} packets/s per core")
rows = [("subscribers sustained per core", "n", "{:.0f}"), ("CPU ms per 1,000 forwarded packets", "ms_per_k", "{:.3f}"),
        ("  (min of the repeats)", "ms_per_k_min", "{:.3f}"), ("repeats per step", "repeats", "{:.0f}"),
        ("kernel rcvbuf drops at that step", "rcvbuf", "{:.0f}"), ("RSS per participant (MB, slope)", "rss_per_participant", "{:.3f}"),
        ("latency p50 at that step (ms)", "p50", "{:.2f}"), ("latency p99 at that step (ms)", "p99", "{:.2f}"),
        ("forwarded packets/s at that step", "pps", "{:,.0f}"), ("fraction of the loopback floor", "frac", "{:.3f}")]
print(f"{'':36}{'ours':>12}{'janus':>12}{'ours/janus':>12}")
for label, key, fmt in rows:
    a, b = res["sfu"], res["janus"]
    va = fmt.format(a[key]) if a else "-"
    vb = fmt.format(b[key]) if b else "-"
    ratio = f"{a[key] / b[key]:.2f}" if a and b and b[key] else "-"
    print(f"{label:36}{va:>12}{vb:>12}{ratio:>12}")
# Latency depends on load: also compare it at the largest step both servers
# sustained.
if res["sfu"] and res["janus"]:
    common = sorted(set(res["sfu"]["rows"]) & set(res["janus"]["rows"]))
    if common:
        n = common[-1]
        a, b = res["sfu"]["rows"][n], res["janus"]["rows"][n]
        for label, i in (("p50", 4), ("p99", 5)):
            ratio = f"{a[i] / b[i]:.2f}" if b[i] else "-"
            print(f"{'latency ' + label + ' at ' + str(n) + ' subs (ms)':36}{a[i]:>12.2f}{b[i]:>12.2f}{ratio:>12}")
        cpu_ratio = f"{a[1] / b[1]:.2f}" if b[1] else "-"
        print(f"{'server CPU at ' + str(n) + ' subs (%)':36}{a[1]:>12.1f}{b[1]:>12.1f}{cpu_ratio:>12}")
for name, r in (("ours", res["sfu"]), ("janus", res["janus"])):
    if not r:
        continue
    if r["stop"].startswith("limit server CPU"):
        print(f"{name}: stopped by its own CPU limit ({r['stop'][6:]}): subscribers per core is the server's")
    elif r["stop"].startswith("limit"):
        print(f"{name}: stopped by {r['stop'][6:]}: not the server's CPU limit, so subscribers per core is a lower bound")
    else:
        print(f"note: {name} never reached 1 % loss or 90 % CPU (the sweep ended: {r['stop']}): its subscribers per")
        print(f"      core is a lower bound; compare CPU ms per 1,000 packets instead, and see {out}/cpu-vs-pps.png")
