#!/usr/bin/env python3
"""The layering rules of the house, checked on what the compiler really read
(Ninja's dependency log of the build being tested): no file of signaling/
includes <uv.h> (server/ids.hpp, room_api.hpp and worker_metrics.hpp are the
ground floor it may see; the workers and libuv stay below).

Usage: layering_check.py BUILD_DIR. Fails if the log names no signaling
object at all, so an empty or renamed build cannot pass silently."""
import subprocess
import sys


def deps_by_target(build_dir):
    out = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], check=True, capture_output=True,
                         text=True).stdout
    deps, target = {}, None
    for line in out.splitlines():
        if line and not line[0].isspace():
            target = line.split(":", 1)[0]
            deps[target] = []
        elif target and line.strip():
            deps[target].append(line.strip())
    return deps


def main():
    deps = deps_by_target(sys.argv[1])
    signaling = {t: d for t, d in deps.items() if "/sfu_signaling.dir/" in t and t.endswith(".o")}
    if not signaling:
        print("no signaling objects in the dependency log: build first")
        return 1
    bad = sorted(t for t, d in signaling.items() if any(h.endswith("/uv.h") for h in d))
    for t in bad:
        chain = [h for h in signaling[t] if "/server/" in h]
        print(f"{t} includes <uv.h>; server headers it read: {', '.join(chain)}")
    print(f"{len(signaling)} signaling objects, {len(bad)} with <uv.h>")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
