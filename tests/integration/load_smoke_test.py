#!/usr/bin/env python3
"""CI smoke run of the load generator against the real sfu binary: one room,
two publishers and four subscribers for 10 s over loopback. A correctness
check, not a timing one: it fails unless every expected track is received,
nothing is lost (after NACK/RTX) and no participant failed.

usage: load_smoke_test.py PATH_TO_SFU PATH_TO_SFU_LOAD
"""
import json
import re
import signal
import subprocess
import sys
import threading
import time


def start_sfu(sfu):
    proc = subprocess.Popen([sfu, "--listen", "127.0.0.1:0", "--rtc-listen", "127.0.0.1:0", "--workers", "1"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            # Keep reading the log so that a full pipe never blocks the server.
            log = []
            threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
            proc.log = log
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("sfu did not announce its port")


def main():
    sfu, load = sys.argv[1], sys.argv[2]
    proc, port = start_sfu(sfu)
    try:
        run = subprocess.run([load, "--url", f"ws://127.0.0.1:{port}/ws", "--duration", "10", "--rooms", "1",
                              "--publishers", "2", "--subscribers", "4", "--server-pid", str(proc.pid), "--json"],
                             capture_output=True, text=True, timeout=90)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.2)
        rest = "".join(proc.log)
    sys.stderr.write(run.stderr)
    print(run.stdout)
    if run.returncode != 0:
        print(f"FAIL: sfu-load exited with {run.returncode}")
        sys.stderr.write(rest)
        return 1
    report = json.loads(run.stdout)
    problems = []
    if report["tracksExpected"] != 2 * 2 + 4 * 4:
        problems.append(f"expected 20 tracks, the report says {report['tracksExpected']}")
    if report["tracksReceived"] != report["tracksExpected"]:
        problems.append(f"tracks received {report['tracksReceived']} of {report['tracksExpected']}")
    if report["packetsLost"] != 0:
        problems.append(f"{report['packetsLost']} packets lost")
    if report["failedParticipants"] != 0:
        problems.append(f"failed participants: {report['failures']}")
    if report["transportsConnected"] != report["transportsTotal"]:
        problems.append(f"transports connected {report['transportsConnected']} of {report['transportsTotal']}")
    if report["invalidStreams"] != 0:
        problems.append(f"{report['invalidStreams']} streams broke the SFU's invariants")
    if report["latencyMs"]["samples"] == 0:
        problems.append("no latency samples")
    if problems:
        print("FAIL: " + "; ".join(problems))
        sys.stderr.write(rest)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
