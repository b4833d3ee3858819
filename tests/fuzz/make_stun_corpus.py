#!/usr/bin/env python3
"""Writes the seed corpus of stun_fuzz into tests/fuzz/corpus/stun/.

Seeds: the four RFC 5769 vectors (§2.1-2.4) verbatim, and Chrome-like ICE
messages (Binding request with USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING,
USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT; a success response;
a 420 error). The Chrome-like ones are keyed with the fuzzer's fixed password
so that the check_integrity success path is reachable.

Run from anywhere: python3 tests/fuzz/make_stun_corpus.py
"""
import hashlib
import hmac
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "stun")
FUZZ_PASSWORD = b"fuzz-password-0123456789"  # must match fuzz_key() in stun_fuzz.cpp
COOKIE = 0x2112A442


def h(text):
    return bytes.fromhex("".join(text.split()))


RFC5769 = {
    "rfc5769_2_1_request": h("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf"""),
    "rfc5769_2_2_ipv4_response": h("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96"""),
    "rfc5769_2_3_ipv6_response": h("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c"""),
    "rfc5769_2_4_long_term_request": h("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66"""),
}


def attr(kind, value):
    pad = (-len(value)) % 4
    return struct.pack(">HH", kind, len(value)) + value + b"\0" * pad


def message(msg_type, tid, attrs, key=None, fingerprint=True):
    body = b"".join(attrs)
    if key is not None:
        head = struct.pack(">HHI", msg_type, len(body) + 24, COOKIE) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if fingerprint:
        head = struct.pack(">HHI", msg_type, len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(head + body) & 0xFFFFFFFF) ^ 0x5354554E
        body += attr(0x8028, struct.pack(">I", crc))
    return struct.pack(">HHI", msg_type, len(body), COOKIE) + tid + body


def xor_v4(ip, port):
    x = struct.unpack(">I", bytes(ip))[0] ^ COOKIE
    return struct.pack(">BBHI", 0, 1, port ^ (COOKIE >> 16), x)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = dict(RFC5769)
    tid = bytes.fromhex("4a6f3c2b1e0d9c8b7a695847")
    seeds["chrome_binding_request"] = message(0x0001, tid, [
        attr(0x0006, b"sfuU:brwsR2d2"),               # USERNAME local:remote ufrag
        attr(0xC057, struct.pack(">HH", 1, 10)),      # GOOG-NETWORK-INFO id 1, cost 10
        attr(0x802A, bytes.fromhex("5d8e1a2b3c4d5e6f")),  # ICE-CONTROLLING tie-breaker
        attr(0x0025, b""),                            # USE-CANDIDATE
        attr(0x0024, struct.pack(">I", 0x6E7F1EFF)),  # PRIORITY
    ], key=FUZZ_PASSWORD)
    seeds["binding_success_response"] = message(0x0101, tid, [
        attr(0x0020, xor_v4([192, 0, 2, 1], 32853)),
    ], key=FUZZ_PASSWORD)
    seeds["error_420_response"] = message(0x0111, tid, [
        attr(0x0009, bytes([0, 0, 4, 20]) + b"Unknown Attribute"),
        attr(0x000A, struct.pack(">HH", 0x0003, 0x7FFF)),
    ])
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
