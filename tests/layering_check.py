#!/usr/bin/env python3
"""The layering rules of the house, checked on what the compiler really read
(Ninja's dependency log of the build being tested):
  - no file of signaling/ includes <uv.h> (server/ids.hpp, room_api.hpp and
    worker_metrics.hpp are the ground floor it may see; the workers and
    libuv stay below);
  - the SDP library (signaling/sdp/, sfu_sdp) reads no <uv.h>, no Asio or
    Beast, no hiredis, and no signaling/ header outside signaling/sdp/;
  - the load generator's library (bench/load/, sfu_load) reads no signaling/
    header but the SDP library's and auth.hpp (tokens, its own target
    sfu_auth), so it never links the server's signaling.

Usage: layering_check.py BUILD_DIR. Fails if the log names no signaling or
no SDP object at all, so an empty or renamed build cannot pass silently."""
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


def objects(deps, target_dir):
    return {t: d for t, d in deps.items() if f"/{target_dir}/" in t and t.endswith(".o")}


def check_signaling(deps):
    signaling = objects(deps, "sfu_signaling.dir")
    if not signaling:
        print("no signaling objects in the dependency log: build first")
        return 1
    bad = sorted(t for t, d in signaling.items() if any(h.endswith("/uv.h") for h in d))
    for t in bad:
        chain = [h for h in signaling[t] if "/server/" in h]
        print(f"{t} includes <uv.h>; server headers it read: {', '.join(chain)}")
    print(f"{len(signaling)} signaling objects, {len(bad)} with <uv.h>")
    return 1 if bad else 0


def sdp_violations(headers):
    for h in headers:
        if h.endswith("/uv.h") or "/boost/asio" in h or "/boost/beast" in h or "/hiredis/" in h:
            yield h
        elif "/signaling/" in h and "/signaling/sdp/" not in h:
            yield h


def check_sdp(deps):
    sdp = objects(deps, "sfu_sdp.dir")
    if not sdp:
        print("no SDP objects in the dependency log: build first")
        return 1
    bad = {t: list(sdp_violations(d)) for t, d in sdp.items()}
    bad = {t: v for t, v in sorted(bad.items()) if v}
    for t, v in bad.items():
        print(f"{t} reads what the SDP library must not: {', '.join(v)}")
    print(f"{len(sdp)} SDP objects, {len(bad)} reading libuv, Asio/Beast, hiredis or signaling/")
    return 1 if bad else 0


LOAD_ALLOWED_SIGNALING = ("/signaling/sdp/", "/signaling/auth.hpp", "/signaling/jsonrpc.hpp")


def check_load(deps):
    load = objects(deps, "sfu_load.dir")
    if not load:
        print("no load generator objects in the dependency log (built without bench): skipped")
        return 0
    bad = {t: [h for h in d if "/signaling/" in h and not any(a in h for a in LOAD_ALLOWED_SIGNALING)]
           for t, d in load.items()}
    bad = {t: v for t, v in sorted(bad.items()) if v}
    for t, v in bad.items():
        print(f"{t} reads the server's signaling: {', '.join(v)}")
    print(f"{len(load)} load generator objects, {len(bad)} reading signaling/ beyond SDP and auth")
    return 1 if bad else 0


def main():
    deps = deps_by_target(sys.argv[1])
    failed = check_signaling(deps)
    failed |= check_sdp(deps)
    failed |= check_load(deps)
    return failed


if __name__ == "__main__":
    sys.exit(main())
