#!/usr/bin/env python3
"""GET /metrics read by a real Prometheus (Debian's `prometheus`), started
by this test on loopback with a generated config that scrapes the sfu's
metrics listener every second while sfu-load runs one room (1 publisher,
3 subscribers). Then, through Prometheus' HTTP API (/api/v1/query):

- rate(sfu_rtp_packets_forwarded_total[5s]) in the middle of the run is
  non-zero;
- the counter's increase over the run, as Prometheus stored it, matches the
  media packets sfu-load's subscribers received within 10 %;
- join latency and transports reached Prometheus too.

`promtool check metrics` must pass on the server's output. A second phase
scrapes /metrics every 100 ms during an equal sfu-load run and prints the
server's CPU and loss with and without, and the scrape cost.

usage: prometheus_test.py PATH_TO_SFU PATH_TO_SFU_LOAD
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

RUN_SECONDS = 12


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def start_prometheus(workdir, target):
    port = free_port()
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                "scrape_configs:\n  - job_name: sfu\n    static_configs:\n"
                f"      - targets: ['{target}']\n")
    log = open(os.path.join(workdir, "prometheus.log"), "w")
    proc = subprocess.Popen(["prometheus", f"--config.file={config}",
                             f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("prometheus exited:\n" + open(log.name).read()[-3000:])
        try:
            if http_get(base + "/-/ready", 2)[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("prometheus did not become ready in 30 s")


def query(base, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    status, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode(params))
    data = json.loads(body)
    if data.get("status") != "success":
        raise RuntimeError(f"query {expr} failed: {body[:500]}")
    result = data["data"]["result"]
    return [float(r["value"][1]) for r in result]


def run_load(load, port, seconds, room):
    run = subprocess.run([load, "--url", f"ws://127.0.0.1:{port}/ws", "--duration", str(seconds), "--rooms", "1",
                          "--publishers", "1", "--subscribers", "3", "--room-prefix", room, "--json"],
                         capture_output=True, text=True, timeout=seconds + 60)
    if run.returncode != 0:
        raise RuntimeError(f"sfu-load exited {run.returncode}:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout)


def stop(proc, sig=signal.SIGINT):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    sfu, load = sys.argv[1], sys.argv[2]
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        print("FAIL: prometheus/promtool not installed (Debian prometheus; deploy/install-deps.sh installs it)")
        return 1
    workdir = tempfile.mkdtemp(prefix="sfu-prom-")
    metrics_port = free_port()
    server = sfu_client.start_sfu(sfu, "--metrics-listen", f"127.0.0.1:{metrics_port}", workers=1)
    port = server.port
    prom = None
    problems = []
    try:
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        prom, base = start_prometheus(workdir, f"127.0.0.1:{metrics_port}")
        # Wait for a first successful scrape so the run's start is in the TSDB.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and query(base, 'up{job="sfu"}') != [1.0]:
            time.sleep(0.3)
        if query(base, 'up{job="sfu"}') != [1.0]:
            raise RuntimeError("Prometheus never scraped the sfu")

        # promtool's own parser and lint on exactly what we serve.
        _, text = http_get(metrics_url)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        print(f"promtool check metrics: exit {check.returncode} {check.stdout.strip()} {check.stderr.strip()}")
        if check.returncode != 0:
            problems.append("promtool check metrics failed")

        started = time.time()
        report = run_load(load, port, RUN_SECONDS, "prom")
        ended = time.time()
        time.sleep(3.5)  # the worker publishes once a second; Prometheus scrapes once a second
        received = report["packetsExpected"] - report["packetsLost"]
        mid = started + (ended - started) * 0.6
        mid_rate = sum(query(base, "rate(sfu_rtp_packets_forwarded_total[5s])", mid))
        before = sum(query(base, "sfu_rtp_packets_forwarded_total", started - 0.5))
        after = sum(query(base, "sfu_rtp_packets_forwarded_total"))
        increase = after - before
        connected = query(base, 'sfu_join_latency_seconds_count{stage="transport_connected"}')
        first_media = query(base, 'sfu_join_latency_seconds_count{stage="first_packet_forwarded"}')
        p50 = query(base, 'histogram_quantile(0.5, sfu_join_latency_seconds_bucket{stage="first_packet_forwarded"})')
        print(f"sfu-load: {received} media packets received by subscribers, loss {report['lossPercent']} %, "
              f"server CPU {report['server']['cpuPercentAvg']:.1f} %")
        print(f"Prometheus: rate(sfu_rtp_packets_forwarded_total[5s]) mid-run {mid_rate:.1f}/s, "
              f"increase over the run {increase:.0f}, join->connected count {connected}, "
              f"join->first packet count {first_media}, p50 {p50}")
        worker_cpu = sum(query(base, "sfu_worker_cpu_seconds_total"))
        print(f"Prometheus: sfu_worker_cpu_seconds_total {worker_cpu:.3f} s after the run")
        if worker_cpu <= 0:
            problems.append("sfu_worker_cpu_seconds_total is zero after a run")
        if mid_rate <= 0:
            problems.append("rate(sfu_rtp_packets_forwarded_total) was zero during the run")
        if received <= 0 or abs(increase - received) > 0.10 * received:
            problems.append(f"forwarded increase {increase:.0f} differs from sfu-load's {received} by more than 10 %")
        if connected != [4.0]:
            problems.append(f"join->connected observations {connected}, expected 4")
        if first_media != [3.0]:
            problems.append(f"join->first packet observations {first_media}, expected 3 (the subscribers)")

        # /metrics every 100 ms beside an equal run: media must not notice.
        times, stop_flag = [], threading.Event()

        def scrape():
            while not stop_flag.is_set():
                t0 = time.perf_counter()
                http_get(metrics_url)
                times.append(time.perf_counter() - t0)
                stop_flag.wait(0.1)

        scraper = threading.Thread(target=scrape, daemon=True)
        scraper.start()
        busy = run_load(load, port, RUN_SECONDS, "prom-busy")
        stop_flag.set()
        scraper.join(5)
        _, text = http_get(metrics_url)
        cost = re.search(r"^sfu_metrics_scrape_cpu_seconds (\S+)$", text, re.M)
        print(f"with a scrape every 100 ms ({len(times)} scrapes, p50 {statistics.median(times) * 1e3:.2f} ms "
              f"wall, last scrape {float(cost.group(1)) * 1e6:.0f} us control-thread CPU): server CPU "
              f"{busy['server']['cpuPercentAvg']:.1f} % vs {report['server']['cpuPercentAvg']:.1f} % without, "
              f"loss {busy['lossPercent']} % vs {report['lossPercent']} %")
        if busy["packetsLost"] != 0 or busy["failedParticipants"] != 0 or busy["tracksReceived"] != busy["tracksExpected"]:
            problems.append(f"media disturbed while scraping every 100 ms: {busy['packetsLost']} lost, "
                            f"{busy['failedParticipants']} failed, tracks {busy['tracksReceived']}/{busy['tracksExpected']}")
        if len(times) < RUN_SECONDS * 5:
            problems.append(f"only {len(times)} scrapes in {RUN_SECONDS} s")
    except Exception as e:  # noqa: BLE001 - report and fail
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        if prom:
            stop(prom, signal.SIGTERM)
        rc = server.stop(signal.SIGINT)
        shutil.rmtree(workdir, ignore_errors=True)
    if rc != 0:
        problems.append(f"sfu {server.exit_description()}")
    if problems:
        print("FAIL: " + "; ".join(problems))
        sys.stderr.write(server.log_tail(50))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
