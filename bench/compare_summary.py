#!/usr/bin/env python3
"""The summary table of bench/compare.sh from its output directory (the
calibration JSON and one .dat line per step and server):

    python3 bench/compare_summary.py OUT

.dat columns: subscribers, server CPU %, packets/s out, loss %, latency p50
ms, p99 ms, failed participants, tracks received, tracks expected, VOID.
A step counts when loss <= 1 %, CPU < 90 %, nobody failed, every track
arrived and the run is not VOID; each server's last such step is compared.
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
    ok = [r for r in rows if r[3] <= 1.0 and r[1] < 90.0 and r[6] == 0 and r[7] >= r[8] and r[9] == 0]
    if not ok:
        return None
    n, cpu, pps, loss, p50, p99 = ok[-1][:6]
    ms_per_k = (cpu / 100.0) / pps * 1000.0 * 1000.0 if pps > 0 else float("nan")
    per_core = pps / (cpu / 100.0) if cpu > 0 else float("nan")
    stop = open(os.path.join(out, name + ".stop")).read().strip()
    return dict(n=n, cpu=cpu, pps=pps, p50=p50, p99=p99, ms_per_k=ms_per_k, frac=per_core / floor, stop=stop,
                rows={int(r[0]): r for r in ok})
res = {k: best(k) for k in ("sfu", "janus")}
print("\n== summary (rooms of 2 publishers, one core per server)")
print(f"loopback floor: {cal['forward_us_per_packet']:.3f} us per received+sent packet = {floor:,.0f} packets/s per core")
rows = [("subscribers sustained per core", "n", "{:.0f}"), ("CPU ms per 1,000 forwarded packets", "ms_per_k", "{:.3f}"),
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
    if r and r["stop"] != "limit":
        why = "the load generator became the bottleneck" if r["stop"] == "generator" else "the steps ran out"
        print(f"note: {name} never reached 1 % loss or 90 % CPU ({why}): its subscribers per core is a lower bound;")
        print(f"      compare CPU ms per 1,000 packets instead, and see {out}/cpu-vs-pps.png")
