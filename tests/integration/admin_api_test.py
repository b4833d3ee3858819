#!/usr/bin/env python3
"""The admin API (/admin/v1/, signaling/ADMIN.md) and /metrics against the
real binary, with an API key so that tokens are required:

- every call with a node-wide admin token, a token without the admin grant
  (403 forbidden), no token (401 unauthorized), an expired or forged admin
  token (401); a room-scoped admin token works for its own room only.
- what WebSocket clients see (sfu_client.py): kick (`kicked`, socket
  closed, `peerLeft`), mute (`producerPaused` to everyone including the
  owner, whose `resumeProducer` is 4003 admin_muted), unmute
  (`producerResumed`), close (`roomClosed`), drain (/readyz 503, join 5003).
- bad input: wrong methods (405 + Allow), unknown rooms, peers, producers and
  paths (404), bad bodies (400, 413), percent-encoded slashes and bad
  escapes (404); each changes nothing.
- path traversal in the web root, sent as raw bytes: 404 (or 400), never a
  file's contents.
- /metrics: admin token on the signaling port; with --metrics-listen only
  there, without a token; `promtool check metrics` passes.

usage: admin_api_test.py PATH_TO_SFU   (or SFU_BIN=PATH admin_api_test.py)
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_client  # noqa: E402

SFU = None
KID, SECRET = "main", "0123456789abcdef0123456789abcdef"
API_KEY = f"{KID}={SECRET}"
NODE_WIDE = "*"  # `sfu token --room '*'`: no room claim
MEDIA_GRANTS = "publish,subscribe,publishData"
SCENARIO_SECONDS = 30  # bound on one test's asyncio part


# --- HTTP over a raw socket (the target is sent byte for byte) ---------------


class Response:
    def __init__(self, raw: bytes):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if raw else None
        self.status = int(m.group(1)) if m else -1
        self.headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                self.headers[name.strip().lower()] = value.strip()

    def json(self):
        return json.loads(self.body)

    def error_code(self):
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


def raw_http(port, data: bytes, timeout=5.0) -> Response:
    """Sends `data` as is and reads the answer until the server closes."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed; read what it sent
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    return Response(b"".join(chunks))


def http(port, method, target, token=None, body=None, headers=()):
    """One request with Connection: close. body: bytes, str, or a JSON value."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    payload = b""
    if body is not None:
        payload = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        lines.append("Content-Length: 0")
    lines += list(headers)
    return raw_http(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


# --- Tokens ------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft_jwt(claims, secret=SECRET, kid=KID):
    """An HS256 JWT written here, independently of `sfu token`."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def admin_claims(exp_offset, room=None):
    now = int(time.time())
    claims = {"sub": "crafted", "exp": now + exp_offset, "grants": {"admin": True}}
    if room:
        claims["room"] = room
    return claims


# --- Clients -----------------------------------------------------------------


def auto_answer(client):
    """Answers every subscriberOffer of `client` (as a browser would)."""
    ufrag, pwd = sfu_client.random_ice()

    async def answer(params):
        try:
            await client.request("subscriberAnswer", {"sdp": sfu_client.answer_for(params["sdp"], ufrag, pwd)})
        except Exception:  # noqa: BLE001 - a client being kicked or closed cannot answer
            pass

    def on_notification(msg):
        if msg["method"] == "subscriberOffer":
            asyncio.get_running_loop().create_task(answer(msg["params"]))

    client.on_notification = on_notification


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promtool_check(testcase, text: bytes):
    """`promtool check metrics` on an exposition; skipped (with a message) without promtool."""
    promtool = shutil.which("promtool")
    if not promtool:
        print("\nadmin_api_test: promtool not found (Debian 'prometheus'): `promtool check metrics` not run",
              file=sys.stderr)
        return
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    testcase.assertEqual(r.returncode, 0, f"promtool check metrics:\n{r.stdout.decode()}{r.stderr.decode()}")


# --- Fixture -----------------------------------------------------------------


class AdminTestCase(unittest.TestCase):
    """A fresh sfu with an API key per test, clients dropped after each."""

    extra_args = ()

    def setUp(self):
        self.sfu = sfu_client.start_sfu(SFU, "--api-key", API_KEY, "--drain-timeout", "2", *self.extra_args,
                                        workers=1)
        self.port = self.sfu.port
        self._tokens = {}
        self.clients = []
        self.admin = self.token(NODE_WIDE, "ops", "admin")

    def tearDown(self):
        rc = self.sfu.stop(timeout=10)
        if rc != 0:
            self.fail(f"sfu {self.sfu.exit_description()} after the test:\n{self.sfu.log_tail()}")

    def token(self, room, identity, grants=MEDIA_GRANTS, ttl=3600):
        key = (room, identity, grants, ttl)
        if key not in self._tokens:
            self._tokens[key] = subprocess.run(
                [SFU, "token", "--api-key", API_KEY, "--room", room, "--identity", identity, "--grants", grants,
                 "--ttl", str(ttl)], capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        return self._tokens[key]

    def api(self, method, path, token="admin", body=None, headers=()):
        return http(self.port, method, path, self.admin if token == "admin" else token, body, headers)

    def assert_ok(self, response):
        self.assertEqual(response.status, 200, response)
        self.assertTrue(response.headers.get("content-type", "").startswith("application/json"), response.headers)
        return response.json()

    def assert_error(self, response, status, code, msg=""):
        """A JSON error: {"error": {"status", "code", "message"}}."""
        self.assertEqual(response.status, status, f"{msg} {response}")
        self.assertTrue(response.headers.get("content-type", "").startswith("application/json"), response.headers)
        err = response.json()["error"]
        self.assertEqual((err["status"], err["code"]), (status, code), f"{msg} {response}")
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"])
        return err

    def run_async(self, scenario):
        async def wrapped():
            try:
                await asyncio.wait_for(scenario(), SCENARIO_SECONDS)
            finally:
                for c in self.clients:
                    c.drop()
                self.clients.clear()
        asyncio.run(wrapped())

    async def client(self, room, identity, grants=MEDIA_GRANTS, answer=True):
        c = await sfu_client.Client.connect(self.port)
        self.clients.append(c)
        if answer:
            auto_answer(c)
        c.joined = await c.join(room, token=self.token(room, identity, grants))
        c.identity = identity
        return c

    async def publisher(self, room, identity="pub"):
        """A joined client publishing audio and video; .producers = {kind: producerId}."""
        c = await self.client(room, identity)
        ufrag, pwd = sfu_client.random_ice()
        c.ice = (ufrag, pwd)
        result = await c.request("publish", {"sdp": sfu_client.publish_offer(ufrag, pwd)})
        c.producers = {p["kind"]: p["producerId"] for p in result["producers"]}
        self.assertEqual(set(c.producers), {"audio", "video"})
        return c

    def room_detail(self, room):
        return self.assert_ok(self.api("GET", f"/admin/v1/rooms/{room}"))

    def peer_view(self, room, peer_id):
        detail = self.room_detail(room)
        return next((p for p in detail["peers"] if p["peerId"] == peer_id), None)

    async def wait_negotiated(self, room, subscriber, n, timeout=5.0):
        """Until the admin view shows `n` consumers of `subscriber`, all negotiated."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.peer_view(room, subscriber.peer_id)
            consumers = view["consumers"] if view else []
            if len(consumers) == n and all(c["negotiated"] for c in consumers):
                return view
            if time.monotonic() > deadline:
                self.fail(f"{subscriber.identity}: consumers not negotiated: {view}")
            await asyncio.sleep(0.05)

    def audit_lines(self, timeout=10.0, predicate=None):
        """The log's admin audit lines (event "admin") as dicts of their fields."""
        deadline = time.monotonic() + timeout
        while True:
            lines = []
            for line in list(self.sfu.log):
                m = re.search(r" info admin (.*)$", line.rstrip("\n"))
                if m:
                    lines.append({k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S*)', m.group(1))})
            if predicate is None or predicate(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def assert_no_notifications(self, clients, *methods):
        for c in clients:
            for method in methods:
                self.assertEqual(c.counts[method], 0, f"{c.identity} got {method}")


# --- Every call, every credential --------------------------------------------


class AuthorisationTest(AdminTestCase):
    def test_every_call_refuses_missing_forged_expired_and_non_admin_tokens(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            other = await self.client("beta", "other")
            await self.wait_negotiated("alpha", sub, 2)
            audio = pub.producers["audio"]
            calls = [  # (method, path, the room it administers or None for node-wide)
                ("GET", "/admin/v1/node", None),
                ("GET", "/admin/v1/rooms", None),
                ("GET", "/admin/v1/rooms/alpha", "alpha"),
                ("DELETE", "/admin/v1/rooms/alpha", "alpha"),
                ("POST", f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/kick", "alpha"),
                ("POST", f"/admin/v1/rooms/alpha/producers/{audio}/mute", "alpha"),
                ("POST", f"/admin/v1/rooms/alpha/producers/{audio}/unmute", "alpha"),
                ("POST", "/admin/v1/drain", None),
                ("DELETE", "/admin/v1/drain", None),
            ]
            refusals = [  # (what, Authorization header or None, status, code)
                ("no token", None, 401, "unauthorized"),
                ("not a bearer token", f"Basic {base64.b64encode(b'ops:secret').decode()}", 401, "unauthorized"),
                ("empty bearer token", "Bearer ", 401, "unauthorized"),
                ("garbage token", "Bearer not.a.jwt", 401, "unauthorized"),
                ("expired admin token", "Bearer " + craft_jwt(admin_claims(-3600)), 401, "unauthorized"),
                ("admin token signed with another secret",
                 "Bearer " + craft_jwt(admin_claims(3600), secret="another-secret-0123456789"), 401, "unauthorized"),
                ("admin token with an unknown kid",
                 "Bearer " + craft_jwt(admin_claims(3600), kid="nope"), 401, "unauthorized"),
                ("node-wide token without the admin grant",
                 "Bearer " + self.token(NODE_WIDE, "user", MEDIA_GRANTS), 403, "forbidden"),
                ("room token without the admin grant",
                 "Bearer " + self.token("alpha", "user", MEDIA_GRANTS), 403, "forbidden"),
                ("admin token for another room", "Bearer " + self.token("beta", "beta-ops", "admin"), 403, "forbidden"),
            ]
            # The crafted tokens are right but for their expiry: the same
            # construction with a future exp is accepted.
            fresh = craft_jwt(admin_claims(3600))
            self.assert_ok(self.api("GET", "/admin/v1/node", token=fresh))
            expected_refusals = 0
            for method, path, room in calls:
                for what, authorization, status, code in refusals:
                    headers = [f"Authorization: {authorization}"] if authorization else []
                    r = self.api(method, path, token=None, headers=headers)
                    err = self.assert_error(r, status, code, f"{method} {path} with {what}:")
                    if what.startswith("expired"):
                        self.assertIn("expired", err["message"])
                    expected_refusals += 1
                if room is None:  # node-wide calls refuse a room-scoped admin token
                    r = self.api(method, path, token=self.token("alpha", "alpha-ops", "admin"))
                    self.assert_error(r, 403, "forbidden", f"{method} {path} with a room token:")
                    expected_refusals += 1

            # Nothing changed: same peers, producers playing, not draining,
            # and no client was told anything.
            detail = self.room_detail("alpha")
            self.assertEqual(sorted(p["peerId"] for p in detail["peers"]), sorted([pub.peer_id, sub.peer_id]))
            for p in self.peer_view("alpha", pub.peer_id)["producers"]:
                self.assertEqual((p["paused"], p["adminMuted"]), (False, False))
            self.assertEqual(self.assert_ok(self.api("GET", "/admin/v1/node"))["draining"], False)
            self.assertEqual(self.sfu.http_get("/readyz")[0], 200)
            await asyncio.sleep(0.2)  # anything sent would have arrived by now
            self.assert_no_notifications([pub, sub, other], "kicked", "roomClosed", "producerPaused",
                                         "producerResumed", "peerLeft")
            for c in (pub, sub, other):
                self.assertFalse(c.closed.is_set(), f"{c.identity} was disconnected")

            # Every refusal is in the audit log with its status.
            def refused(lines):
                return [l for l in lines if l.get("status") in ("401", "403")]
            lines = self.audit_lines(predicate=lambda ls: len(refused(ls)) >= expected_refusals)
            self.assertEqual(len(refused(lines)), expected_refusals)
            kick_path = f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/kick"
            self.assertTrue(any(l["status"] == "403" and l["action"] == "kick" and l["method"] == "POST"
                                and l["path"] == kick_path for l in lines), lines[-5:])

        self.run_async(scenario)

    def test_room_scoped_admin_token_administers_its_room_only(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            other = await self.client("beta", "other")
            await self.wait_negotiated("alpha", sub, 2)
            alpha_admin = self.token("alpha", "alpha-ops", "admin")
            # Refused: another room (existing or not, before any 404) and node-wide calls.
            for method, path in [("GET", "/admin/v1/rooms/beta"), ("DELETE", "/admin/v1/rooms/beta"),
                                 ("POST", f"/admin/v1/rooms/beta/peers/{other.peer_id}/kick"),
                                 ("POST", "/admin/v1/rooms/beta/producers/pr_nope/mute"),
                                 ("GET", "/admin/v1/rooms/gamma"),
                                 ("GET", "/admin/v1/node"), ("GET", "/admin/v1/rooms"),
                                 ("POST", "/admin/v1/drain"), ("DELETE", "/admin/v1/drain")]:
                self.assert_error(self.api(method, path, token=alpha_admin), 403, "forbidden", f"{method} {path}:")
            self.assertEqual(self.sfu.http_get("/readyz")[0], 200)
            self.assertFalse(other.closed.is_set())
            # Accepted in its own room (a percent-encoded name is the same room).
            detail = self.assert_ok(self.api("GET", "/admin/v1/rooms/alpha", token=alpha_admin))
            self.assertEqual(detail["name"], "alpha")
            self.assertEqual(self.assert_ok(self.api("GET", "/admin/v1/rooms/alph%61", token=alpha_admin))["name"],
                             "alpha")
            audio = pub.producers["audio"]
            self.assertEqual(self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{audio}/mute",
                                                     token=alpha_admin)),
                             {"producerId": audio, "paused": True})
            await sub.wait_for("producerPaused", lambda p: p["producerId"] == audio)
            self.assertEqual(self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{audio}/unmute",
                                                     token=alpha_admin)),
                             {"producerId": audio, "paused": False})
            await sub.wait_for("producerResumed", lambda p: p["producerId"] == audio)
            self.assertEqual(self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/kick",
                                                     token=alpha_admin)), {"kicked": sub.peer_id})
            self.assertEqual(await sub.wait_for("kicked"), {"reason": "admin"})
            self.assertEqual(self.assert_ok(self.api("DELETE", "/admin/v1/rooms/alpha", token=alpha_admin)),
                             {"closed": "alpha", "peers": 1})
            self.assertEqual(await pub.wait_for("roomClosed"), {"reason": "admin"})
            # The other room is untouched.
            self.assertEqual([p["peerId"] for p in self.room_detail("beta")["peers"]], [other.peer_id])
            self.assert_no_notifications([other], "kicked", "roomClosed")
            # Audit lines name the room token's subject.
            lines = self.audit_lines(predicate=lambda ls: any(l["action"] == "close_room" for l in ls))
            self.assertTrue(any(l["subject"] == "alpha-ops" and l["action"] == "close_room" and l["status"] == "200"
                                and l["method"] == "DELETE" and l["path"] == "/admin/v1/rooms/alpha" for l in lines),
                            lines[-5:])

        self.run_async(scenario)


# --- What each call does -----------------------------------------------------


class EffectsTest(AdminTestCase):
    def test_node_rooms_and_room_detail(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            other = await self.client("beta", "other")
            await self.wait_negotiated("alpha", sub, 2)

            node = self.assert_ok(self.api("GET", "/admin/v1/node"))
            self.assertEqual(set(node), {"node", "version", "draining", "rooms", "peers", "sessions"})
            self.assertIsInstance(node["node"], str)
            self.assertIsInstance(node["version"], str)
            self.assertEqual((node["draining"], node["rooms"], node["peers"], node["sessions"]), (False, 2, 3, 3))

            rooms = self.assert_ok(self.api("GET", "/admin/v1/rooms"))["rooms"]
            self.assertEqual(sorted(rooms, key=lambda r: r["name"]),
                             [{"name": "alpha", "peers": 2, "producers": 2, "dataProducers": 0},
                              {"name": "beta", "peers": 1, "producers": 0, "dataProducers": 0}])

            detail = self.room_detail("alpha")
            self.assertEqual((detail["name"], detail["producers"], detail["dataProducers"]), ("alpha", 2, 0))
            peers = {p["peerId"]: p for p in detail["peers"]}
            self.assertEqual(set(peers), {pub.peer_id, sub.peer_id})
            now = time.time()
            for c in (pub, sub):
                p = peers[c.peer_id]
                self.assertEqual(p["identity"], c.identity)
                self.assertEqual(p["remoteAddress"], "127.0.0.1")
                self.assertLess(abs(p["joinedAt"] - now), 60)
                self.assertEqual(p["grants"], {"publish": True, "subscribe": True, "publishData": True, "admin": False})
                self.assertIsInstance(p["name"], str)
                self.assertEqual((p["dataProducers"], p["dataConsumers"]), ([], 0))
            # The publisher: its transport (no ICE here: state "new") and producers.
            transport = peers[pub.peer_id]["transports"]["publisher"]
            self.assertIsInstance(transport["id"], int)
            self.assertIsInstance(transport["worker"], int)
            self.assertEqual(transport["state"], "new")
            producers = {p["producerId"]: p for p in peers[pub.peer_id]["producers"]}
            self.assertEqual(set(producers), set(pub.producers.values()))
            for kind, pid in pub.producers.items():
                self.assertEqual(producers[pid]["kind"], kind)
                self.assertEqual(producers[pid]["peerId"], pub.peer_id)
                self.assertEqual((producers[pid]["paused"], producers[pid]["adminMuted"]), (False, False))
            # The subscriber: its transport and consumers with their layers.
            self.assertEqual(peers[sub.peer_id]["transports"]["subscriber"]["state"], "new")
            self.assertIsNone(peers[sub.peer_id]["transports"]["publisher"])
            consumers = peers[sub.peer_id]["consumers"]
            self.assertEqual({c["producerId"] for c in consumers}, set(pub.producers.values()))
            for c in consumers:
                self.assertEqual(c["kind"], "audio" if c["producerId"] == pub.producers["audio"] else "video")
                self.assertTrue(c["consumerId"])
                self.assertTrue(c["mid"])
                self.assertEqual((c["paused"], c["negotiated"]), (False, True))
                for layers in ("currentLayers", "preferredLayers"):
                    self.assertEqual(set(c[layers]), {"spatial", "temporal"})
                    self.assertIsInstance(c[layers]["spatial"], int)
                    self.assertIsInstance(c[layers]["temporal"], int)
            self.assertEqual(self.room_detail("beta")["peers"][0]["peerId"], other.peer_id)
            # GET answers change nothing.
            self.assert_no_notifications([pub, sub, other], "kicked", "roomClosed", "producerPaused")

        self.run_async(scenario)

    def test_kick(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            third = await self.client("alpha", "third")
            await self.wait_negotiated("alpha", sub, 2)
            r = self.api("POST", f"/admin/v1/rooms/alpha/peers/{pub.peer_id}/kick")
            self.assertEqual(self.assert_ok(r), {"kicked": pub.peer_id})
            self.assertEqual(await pub.wait_for("kicked"), {"reason": "admin"})
            await asyncio.wait_for(pub.closed.wait(), 5)
            self.assertEqual(pub.close_code, 1000)
            for c in (sub, third):
                self.assertEqual(await c.wait_for("peerLeft", lambda p: p["peerId"] == pub.peer_id),
                                 {"peerId": pub.peer_id})
                for pid in pub.producers.values():
                    await c.wait_for("producerRemoved", lambda p, pid=pid: p["producerId"] == pid)
                self.assertEqual(c.counts["kicked"], 0)
                self.assertFalse(c.closed.is_set())
            detail = self.room_detail("alpha")
            self.assertEqual(sorted(p["peerId"] for p in detail["peers"]), sorted([sub.peer_id, third.peer_id]))
            self.assertEqual(detail["producers"], 0)
            # Gone: a second kick is 404.
            self.assert_error(self.api("POST", f"/admin/v1/rooms/alpha/peers/{pub.peer_id}/kick"), 404, "not_found")
            lines = self.audit_lines(predicate=lambda ls: any(l["action"] == "kick" and l["status"] == "404"
                                                              for l in ls))
            self.assertTrue(any(l["subject"] == "ops" and l["method"] == "POST" and l["action"] == "kick"
                                and l["status"] == "200" and l["path"].endswith(f"/peers/{pub.peer_id}/kick")
                                for l in lines), lines[-5:])

        self.run_async(scenario)

    def test_mute_and_unmute(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            third = await self.client("alpha", "third")
            await self.wait_negotiated("alpha", sub, 2)
            await self.wait_negotiated("alpha", third, 2)
            video, audio = pub.producers["video"], pub.producers["audio"]
            room = [pub, sub, third]

            r = self.api("POST", f"/admin/v1/rooms/alpha/producers/{video}/mute")
            self.assertEqual(self.assert_ok(r), {"producerId": video, "paused": True})
            for c in room:  # the owner included
                self.assertEqual(await c.wait_for("producerPaused", lambda p: p["producerId"] == video),
                                 {"producerId": video, "peerId": pub.peer_id})
            state = {p["producerId"]: p for p in self.peer_view("alpha", pub.peer_id)["producers"]}
            self.assertEqual((state[video]["paused"], state[video]["adminMuted"]), (True, True))
            self.assertEqual((state[audio]["paused"], state[audio]["adminMuted"]), (False, False))

            # The owner cannot resume it.
            with self.assertRaises(sfu_client.RpcError) as e:
                await pub.request("resumeProducer", {"producerId": video})
            self.assertEqual((e.exception.code, e.exception.reason), (4003, "admin_muted"))
            state = {p["producerId"]: p for p in self.peer_view("alpha", pub.peer_id)["producers"]}
            self.assertEqual((state[video]["paused"], state[video]["adminMuted"]), (True, True))
            # A peer joining now sees it paused (join lists the producers with their state).
            late = await self.client("alpha", "late")
            listed = {p["producerId"]: p for p in late.joined["producers"]}
            self.assertTrue(listed[video]["paused"])
            self.assertFalse(listed[audio]["paused"])
            # Muting again is accepted and changes nothing.
            self.assertEqual(self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{video}/mute")),
                             {"producerId": video, "paused": True})
            await asyncio.sleep(0.2)
            for c in room:
                self.assertEqual(c.counts["producerPaused"], 1, c.identity)
                self.assertEqual(c.counts["producerResumed"], 0, c.identity)

            r = self.api("POST", f"/admin/v1/rooms/alpha/producers/{video}/unmute")
            self.assertEqual(self.assert_ok(r), {"producerId": video, "paused": False})
            for c in room + [late]:
                self.assertEqual(await c.wait_for("producerResumed", lambda p: p["producerId"] == video),
                                 {"producerId": video, "peerId": pub.peer_id})
            state = {p["producerId"]: p for p in self.peer_view("alpha", pub.peer_id)["producers"]}
            self.assertEqual((state[video]["paused"], state[video]["adminMuted"]), (False, False))
            # The owner controls it again.
            seq = sub.seq()
            await pub.request("pauseProducer", {"producerId": video})
            await sub.wait_for("producerPaused", lambda p: p["producerId"] == video, after=seq)
            await pub.request("resumeProducer", {"producerId": video})
            await sub.wait_for("producerResumed", lambda p: p["producerId"] == video, after=seq)
            self.assert_no_notifications(room, "kicked", "roomClosed")

        self.run_async(scenario)

    def test_mute_keeps_the_owners_pause_and_survives_republishing(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            await self.wait_negotiated("alpha", sub, 2)
            video, audio = pub.producers["video"], pub.producers["audio"]
            # Paused by its owner, then muted and unmuted: it stays paused (the owner's choice),
            # and the owner hears of the mute at once, not from a refused resume.
            await pub.request("pauseProducer", {"producerId": video})
            await sub.wait_for("producerPaused", lambda p: p["producerId"] == video)
            self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{video}/mute"))
            await pub.wait_for("producerPaused", lambda p: p["producerId"] == video)
            self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{video}/unmute"))
            state = {p["producerId"]: p for p in self.peer_view("alpha", pub.peer_id)["producers"]}
            self.assertEqual((state[video]["paused"], state[video]["adminMuted"]), (True, False))
            await asyncio.sleep(0.2)
            self.assertEqual(sub.counts["producerResumed"], 0)
            seq = sub.seq()
            await pub.request("resumeProducer", {"producerId": video})
            await sub.wait_for("producerResumed", lambda p: p["producerId"] == video, after=seq)

            # Muted, closed by its owner and published again: the new producer starts muted.
            self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{audio}/mute"))
            await pub.request("closeProducer", {"producerId": audio})
            await sub.wait_for("producerRemoved", lambda p: p["producerId"] == audio)
            seq_pub, seq_sub = pub.seq(), sub.seq()
            result = await pub.request("publish", {"sdp": sfu_client.publish_offer(*pub.ice)})
            again = next(p["producerId"] for p in result["producers"] if p["kind"] == "audio")
            self.assertNotEqual(again, audio)
            added = await sub.wait_for("producerAdded", lambda p: p["producerId"] == again, after=seq_sub)
            self.assertTrue(added["paused"], added)
            await pub.wait_for("producerPaused", lambda p: p["producerId"] == again, after=seq_pub)
            state = {p["producerId"]: p for p in self.peer_view("alpha", pub.peer_id)["producers"]}
            self.assertEqual((state[again]["paused"], state[again]["adminMuted"]), (True, True))
            with self.assertRaises(sfu_client.RpcError) as e:
                await pub.request("resumeProducer", {"producerId": again})
            self.assertEqual((e.exception.code, e.exception.reason), (4003, "admin_muted"))
            # Unmuting the new one lifts the mute of its source.
            self.assert_ok(self.api("POST", f"/admin/v1/rooms/alpha/producers/{again}/unmute"))
            await sub.wait_for("producerResumed", lambda p: p["producerId"] == again, after=seq_sub)

        self.run_async(scenario)

    def test_sigterm_after_an_admin_drain_still_drains(self):
        async def scenario():
            pub = await self.publisher("alpha")
            self.assert_ok(self.api("POST", "/admin/v1/drain"))
            self.sfu.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            # A shutdown drain, not a stop: the peer stays until --drain-timeout (2 s here),
            # and an admin cannot end this drain.
            self.assertTrue(self.sfu.alive())
            self.assertFalse(pub.closed.is_set())
            self.assert_error(self.api("DELETE", "/admin/v1/drain"), 409, "shutting_down")
            self.assertEqual(self.sfu.http_get("/readyz")[0], 503)
            closed = await pub.wait_for("roomClosed", timeout=10)
            self.assertEqual(closed, {"reason": "server_shutdown"})
            self.assertEqual(self.sfu.proc.wait(timeout=10), 0)

        self.run_async(scenario)

    def test_close_room(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            third = await self.client("alpha", "third")
            other = await self.client("beta", "other")
            await self.wait_negotiated("alpha", sub, 2)
            r = self.api("DELETE", "/admin/v1/rooms/alpha")
            self.assertEqual(self.assert_ok(r), {"closed": "alpha", "peers": 3})
            for c in (pub, sub, third):
                self.assertEqual(await c.wait_for("roomClosed"), {"reason": "admin"})
                await asyncio.wait_for(c.closed.wait(), 5)
                self.assertEqual(c.close_code, 1001)
            self.assertEqual([r["name"] for r in self.assert_ok(self.api("GET", "/admin/v1/rooms"))["rooms"]],
                             ["beta"])
            self.assert_error(self.api("GET", "/admin/v1/rooms/alpha"), 404, "not_found")
            self.assert_error(self.api("DELETE", "/admin/v1/rooms/alpha"), 404, "not_found")
            await asyncio.sleep(0.1)
            self.assert_no_notifications([other], "roomClosed", "kicked")
            self.assertFalse(other.closed.is_set())
            # The name can be used again.
            again = await self.client("alpha", "again")
            self.assertEqual([p["peerId"] for p in self.room_detail("alpha")["peers"]], [again.peer_id])

        self.run_async(scenario)

    def test_drain_and_undrain(self):
        async def scenario():
            pub = await self.publisher("alpha")
            r = self.api("POST", "/admin/v1/drain")
            self.assertEqual(self.assert_ok(r), {"draining": True})
            self.assertEqual(self.sfu.http_get("/readyz")[0], 503)
            self.assertEqual(self.sfu.http_get("/healthz")[0], 200)
            self.assertTrue(self.assert_ok(self.api("GET", "/admin/v1/node"))["draining"])
            metrics = self.api("GET", "/metrics").body.decode()
            self.assertRegex(metrics, r"(?m)^sfu_draining 1$")
            late = await sfu_client.Client.connect(self.port)
            self.clients.append(late)
            with self.assertRaises(sfu_client.RpcError) as e:
                await late.join("alpha", token=self.token("alpha", "late"))
            self.assertEqual((e.exception.code, e.exception.reason), (5003, "unavailable"))
            # Draining again is accepted; the peers already in stay and work.
            self.assertEqual(self.assert_ok(self.api("POST", "/admin/v1/drain")), {"draining": True})
            await pub.request("pauseProducer", {"producerId": pub.producers["audio"]})
            self.assertEqual([p["peerId"] for p in self.room_detail("alpha")["peers"]], [pub.peer_id])
            self.assertFalse(pub.closed.is_set())
            self.assert_no_notifications([pub], "roomClosed", "kicked")

            r = self.api("DELETE", "/admin/v1/drain")
            self.assertEqual(self.assert_ok(r), {"draining": False})
            self.assertEqual(self.sfu.http_get("/readyz")[0], 200)
            self.assertFalse(self.assert_ok(self.api("GET", "/admin/v1/node"))["draining"])
            self.assertRegex(self.api("GET", "/metrics").body.decode(), r"(?m)^sfu_draining 0$")
            joined = await late.join("alpha", token=self.token("alpha", "late"))
            self.assertEqual([p["peerId"] for p in joined["peers"]], [pub.peer_id])
            self.assertEqual(self.assert_ok(self.api("DELETE", "/admin/v1/drain")), {"draining": False})
            lines = self.audit_lines(predicate=lambda ls: sum(l["action"] == "drain" for l in ls) >= 4)
            self.assertEqual([(l["method"], l["status"]) for l in lines if l["action"] == "drain"],
                             [("POST", "200"), ("POST", "200"), ("DELETE", "200"), ("DELETE", "200")])

        self.run_async(scenario)


# --- Bad input ---------------------------------------------------------------


class AuditTest(AdminTestCase):
    def test_audit_lines_name_the_caller_and_its_address(self):
        self.assert_error(self.api("GET", "/admin/v1/rooms", token=self.token(NODE_WIDE, "mallory", MEDIA_GRANTS)),
                          403, "forbidden")
        self.assert_ok(self.api("GET", "/admin/v1/rooms"))
        lines = self.audit_lines(predicate=lambda ls: len(ls) >= 2)
        self.assertEqual([(l["subject"], l["remote"], l["status"]) for l in lines[-2:]],
                         [("mallory", "127.0.0.1", "403"), ("ops", "127.0.0.1", "200")])


class BadInputTest(AdminTestCase):
    def test_bad_requests_get_clear_errors_and_change_nothing(self):
        async def scenario():
            pub = await self.publisher("alpha")
            sub = await self.client("alpha", "sub")
            other = await self.client("beta", "other")
            await self.wait_negotiated("alpha", sub, 2)
            audio = pub.producers["audio"]
            kick = f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/kick"
            mute = f"/admin/v1/rooms/alpha/producers/{audio}/mute"

            # Wrong methods: 405 naming the allowed ones.
            for method, path, allow in [("PUT", "/admin/v1/node", "GET"), ("POST", "/admin/v1/node", "GET"),
                                        ("DELETE", "/admin/v1/rooms", "GET"), ("POST", "/admin/v1/rooms", "GET"),
                                        ("PUT", "/admin/v1/rooms/alpha", "GET, DELETE"),
                                        ("POST", "/admin/v1/rooms/alpha", "GET, DELETE"),
                                        ("GET", kick, "POST"), ("DELETE", kick, "POST"),
                                        ("GET", mute, "POST"), ("PATCH", mute, "POST"),
                                        ("GET", "/admin/v1/drain", "POST, DELETE"),
                                        ("PUT", "/admin/v1/drain", "POST, DELETE")]:
                r = self.api(method, path)
                self.assert_error(r, 405, "method_not_allowed", f"{method} {path}:")
                self.assertEqual(r.headers.get("allow"), allow, f"{method} {path}")

            # Unknown rooms, peers and producers.
            for method, path in [("GET", "/admin/v1/rooms/nope"), ("DELETE", "/admin/v1/rooms/nope"),
                                 ("POST", f"/admin/v1/rooms/nope/peers/{sub.peer_id}/kick"),
                                 ("POST", f"/admin/v1/rooms/nope/producers/{audio}/mute"),
                                 ("POST", "/admin/v1/rooms/alpha/peers/p_nope/kick"),
                                 ("POST", f"/admin/v1/rooms/beta/peers/{sub.peer_id}/kick"),  # not in that room
                                 ("POST", f"/admin/v1/rooms/alpha/peers/{other.peer_id}/kick"),
                                 ("POST", "/admin/v1/rooms/alpha/producers/pr_nope/mute"),
                                 ("POST", "/admin/v1/rooms/alpha/producers/pr_nope/unmute"),
                                 ("POST", f"/admin/v1/rooms/beta/producers/{audio}/mute")]:
                self.assert_error(self.api(method, path), 404, "not_found", f"{method} {path}:")

            # Bodies: empty or a JSON object, at most 4096 bytes.
            for body, what in [(b"{", "truncated JSON"), (b"not json", "text"), (b"[]", "an array"),
                               (b'[{"reason":"x"}]', "an array of objects"), (b'"kick"', "a string"),
                               (b"42", "a number"), (b"null", "null"), (b"\xff\xfe{}", "invalid UTF-8")]:
                for path in (kick, mute, "/admin/v1/drain"):
                    r = self.api("POST", path, body=body)
                    self.assert_error(r, 400, "invalid_json", f"POST {path} with {what}:")
            big = json.dumps({"pad": "x" * 5000}).encode()
            for path in (kick, mute, "/admin/v1/drain"):
                self.assert_error(self.api("POST", path, body=big), 413, "too_large", f"POST {path} 5 kB:")
            huge = json.dumps({"pad": "x" * 70000}).encode()  # over the HTTP layer's 64 KiB
            for path in (kick, "/admin/v1/drain"):
                r = self.api("POST", path, body=huge)
                self.assertEqual(r.status, 413, f"POST {path} 70 kB: {r}")

            # Unknown paths.
            for method, path in [("GET", "/admin/v1/nope"), ("GET", "/admin/v1"), ("GET", "/admin/"),
                                 ("GET", "/admin/v2/node"), ("GET", "/admin/v1/node/extra"),
                                 ("GET", "/admin/v1/rooms/alpha/peers"),
                                 ("GET", f"/admin/v1/rooms/alpha/peers/{sub.peer_id}"),
                                 ("POST", f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/ban"),
                                 ("POST", f"/admin/v1/rooms/alpha/producers/{audio}/pause"),
                                 ("POST", f"/admin/v1/rooms/alpha/peers/{sub.peer_id}/kick/now"),
                                 ("GET", "/admin/v1//rooms"), ("GET", "/admin//v1/node"),
                                 ("DELETE", "/admin/v1/rooms/alpha//")]:
                self.assert_error(self.api(method, path), 404, "not_found", f"{method} {path}:")

            # Percent-encoded slashes, NULs and bad escapes in segments.
            for method, path in [("GET", "/admin/v1/rooms/al%2Fpha"), ("GET", "/admin/v1/rooms/al%2fpha"),
                                 ("POST", f"/admin/v1/rooms/alpha%2Fpeers%2F{sub.peer_id}%2Fkick"),
                                 ("POST", f"/admin/v1/rooms/alpha/peers%2F{sub.peer_id}/kick"),
                                 ("DELETE", "/admin/v1/rooms/alpha%00"), ("GET", "/admin/v1/rooms/%00"),
                                 ("GET", "/admin/v1/rooms/%zz"), ("GET", "/admin/v1/rooms/alpha%"),
                                 ("GET", "/admin/v1/rooms/alpha%4"), ("GET", "/admin/v1/rooms/alpha%g1"),
                                 ("GET", "/admin/%76%31/node%2F"), ("DELETE", "/admin/v1%2Frooms%2Falpha")]:
                self.assert_error(self.api(method, path), 404, "not_found", f"{method} {path}:")
            # (well-formed escapes decode: this is room alpha)
            self.assertEqual(self.assert_ok(self.api("GET", "/admin/v1/rooms/%61lpha"))["name"], "alpha")

            # Nothing changed.
            detail = self.room_detail("alpha")
            self.assertEqual(sorted(p["peerId"] for p in detail["peers"]), sorted([pub.peer_id, sub.peer_id]))
            for p in self.peer_view("alpha", pub.peer_id)["producers"]:
                self.assertEqual((p["paused"], p["adminMuted"]), (False, False))
            self.assertEqual([p["peerId"] for p in self.room_detail("beta")["peers"]], [other.peer_id])
            self.assertFalse(self.assert_ok(self.api("GET", "/admin/v1/node"))["draining"])
            self.assertEqual(self.sfu.http_get("/readyz")[0], 200)
            await asyncio.sleep(0.2)
            self.assert_no_notifications([pub, sub, other], "kicked", "roomClosed", "producerPaused", "peerLeft")
            for c in (pub, sub, other):
                self.assertFalse(c.closed.is_set(), c.identity)

        self.run_async(scenario)


class WebRootTraversalTest(AdminTestCase):
    """A web root with one page, a secret beside it; requests sent byte for byte."""

    MARKER = b"TOP-SECRET-MARKER"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sfu-admin-test-")
        base = self.tmp.name
        os.mkdir(os.path.join(base, "web"))
        os.mkdir(os.path.join(base, "web", "sub"))
        with open(os.path.join(base, "web", "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>index</title>\n")
        with open(os.path.join(base, "secret.txt"), "wb") as f:
            f.write(self.MARKER + b"\n")
        self.extra_args = ("--web-root", os.path.join(base, "web"))
        super().setUp()

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.tmp.cleanup()

    def get(self, target: bytes):
        return raw_http(self.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    def test_traversal_is_refused(self):
        ok = self.get(b"/index.html")
        self.assertEqual(ok.status, 200)
        self.assertIn(b"<title>index</title>", ok.body)
        targets = [b"/../CMakeLists.txt", b"/../secret.txt", b"/..%2fsecret.txt", b"/..%2f..%2fetc/passwd",
                   b"/..%2F..%2Fetc%2Fpasswd", b"/%2e%2e/%2e%2e/etc/passwd", b"/%2e%2e/secret.txt",
                   b"/%2E%2E/secret.txt", b"/.%2e/x", b"/.%2e/secret.txt", b"/%2e./secret.txt",
                   b"/index.html/../../x", b"/index.html/../../secret.txt", b"/sub/../../secret.txt",
                   b"/..", b"/../", b"/..\\secret.txt", b"/%5c..%5csecret.txt", b"/%252e%252e/secret.txt",
                   b"/index.html%00", b"/index.html%00.png", b"/%00", b"/secret.txt%00/../index.html",
                   b"/index.html\x00", b"//etc/passwd", b"/etc/passwd", b"/%2fetc/passwd",
                   b"http://127.0.0.1/../secret.txt"]
        for target in targets:
            r = self.get(target)
            self.assertIn(r.status, (400, 404), f"GET {target!r}: {r}")
            self.assertNotIn(self.MARKER, r.body, f"GET {target!r} served the secret")
            self.assertNotIn(b"root:", r.body, f"GET {target!r} served /etc/passwd")
            self.assertNotIn(b"cmake_minimum_required", r.body.lower(), f"GET {target!r} served CMakeLists.txt")
        # /room/<anything> is the page's own route: always index.html, whatever follows.
        r = self.get(b"/room/../../secret.txt?x=1")
        self.assertEqual((r.status, r.body), (200, ok.body))
        # The server is still fine.
        self.assertEqual(self.get(b"/index.html").status, 200)

    # Only regular files are served: a directory (std::ifstream opens one) is 404.
    def test_directories_are_not_served(self):
        for target in (b"/.", b"//", b"/./", b"/sub", b"/sub/"):
            r = self.get(target)
            self.assertEqual(r.status, 404, f"GET {target!r}: {r}")


# --- /metrics ----------------------------------------------------------------


class MetricsTest(AdminTestCase):
    def test_metrics_on_the_signaling_port_need_the_admin_token(self):
        self.assertEqual(self.api("GET", "/metrics", token=None).status, 401)
        self.assertEqual(self.api("GET", "/metrics", token=self.token(NODE_WIDE, "user")).status, 403)
        self.assertEqual(self.api("GET", "/metrics", token=craft_jwt(admin_claims(-3600))).status, 401)
        # A room-scoped admin token is valid but not node-wide: 403, as for the admin API.
        self.assertEqual(self.api("GET", "/metrics", token=self.token("alpha", "alpha-ops", "admin")).status, 403)
        r = self.api("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers)
        text = r.body.decode()
        for family in ("sfu_node_info", "sfu_rooms", "sfu_peers", "sfu_admin_requests_total",
                       "sfu_packets_received_total", "sfu_join_latency_seconds", "process_cpu_seconds_total"):
            self.assertRegex(text, rf"(?m)^# TYPE {family} ")
        self.assertEqual(self.api("POST", "/metrics", body=b"").status, 405)
        promtool_check(self, r.body)

    def test_metrics_listener_serves_them_without_a_token(self):
        # Port 0 cannot be discovered from the log: pick a free one (retry if taken meanwhile).
        self.sfu.stop()
        for attempt in range(3):
            port = free_port()
            try:
                self.sfu = sfu_client.start_sfu(SFU, "--api-key", API_KEY, "--metrics-listen", f"127.0.0.1:{port}",
                                                workers=1, timeout=10)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self.port = self.sfu.port
        for token in (None, self.admin):
            r = self.api("GET", "/metrics", token=token)
            self.assertEqual(r.status, 404, f"signaling port /metrics with token={bool(token)}: {r}")
        r = http(port, "GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers)
        self.assertRegex(r.body.decode(), r"(?m)^sfu_rooms 0$")
        promtool_check(self, r.body)
        self.assertEqual(http(port, "GET", "/metrics?x=1").status, 200)
        self.assertEqual(http(port, "GET", "/").status, 404)
        self.assertEqual(http(port, "GET", "/admin/v1/node", token=self.admin).status, 404)
        self.assertEqual(http(port, "POST", "/metrics").status, 405)
        # The admin API stays on the signaling port.
        self.assert_ok(self.api("GET", "/admin/v1/node"))


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        SFU = sys.argv.pop(1)
    else:
        SFU = os.environ.get("SFU_BIN")
    if not SFU:
        sys.exit("usage: admin_api_test.py PATH_TO_SFU (or SFU_BIN=PATH)")
    unittest.main(verbosity=2)
