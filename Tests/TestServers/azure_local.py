#!/usr/bin/env python3
"""Local stand-ins for the Azure endpoints Vigil's sinks talk to, for tests without Azure.

One process serves, on one HTTP(S) port:
  POST /{tenant}/oauth2/v2.0/token                  Entra ID v2 token endpoint (client_credentials with
                                                    client_secret or client_assertion)
  GET  /metadata/identity/oauth2/token              IMDS managed identity (Metadata: true, api-version 2018-02-01)
  PUT|GET|DELETE …/Microsoft.SecurityInsights/incidents/{id}[/comments/{commentId}]
                                                    Sentinel incidents API: etags, 409 Conflict, comments;
                                                    a comment on an incident that does not exist → 404
                                                    NotFound (ARM's answer for a child of a missing parent)
  POST /dataCollectionRules/{dcr}/streams/{stream}  Logs Ingestion API: bearer check, gzip, 1 MB limit →
                                                    413 ContentLengthLimitExceeded, schema from deploy/dcr, 204
  POST /webhook[/…]                                 webhook receiver verifying X-Vigil-Signature (HMAC-SHA256)
and a syslog receiver on a TCP port (octet-counted or LF framing) and a UDP port, parsing RFC 5424 + CEF.

Control (no auth), used by tests:
  GET  /_control/state          everything recorded (requests, rows, incidents, comments, syslog, webhook)
  POST /_control/fault          {"match": "/dataCollectionRules", "method": "POST", "status": 429,
                                 "headers": {"Retry-After": "1"}, "body": {...}, "count": 1,
                                 "delay": 0.5, "action": "status"|"reset"|"slow"}
  POST /_control/config         {"token_lifetime": 5, "webhook_secret": "…", "revoke_tokens": true}
  POST /_control/incident_edit  {"id": "...", "owner": {...}, "status": "Active"}  (an analyst edit: new etag)
  POST /_control/syslog_close   closes accepted syslog TCP connections (a receiver restart)
  POST /_control/reset          forget everything recorded and all faults

Prints one line `READY {"http": port, "tcp": port, "udp": port, "scheme": "http"|"https", "ca": path}` when
listening. Expected credentials come from the command line (see --help).
"""
import argparse
import base64
import gzip
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.RLock()
STATE = {}
FAULTS = []
CONFIG = {}
ISSUED = {}          # token -> {"aud": ..., "exp": ...}
SYSLOG_CONNS = []

MAX_INGEST = 1_048_576
INCIDENT_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.OperationalInsights/"
    r"workspaces/(?P<ws>[^/]+)/providers/Microsoft\.SecurityInsights/incidents(?:/(?P<id>[^/]+))?"
    r"(?:/comments/(?P<cid>[^/]+))?$", re.IGNORECASE)
INGEST_RE = re.compile(r"^/dataCollectionRules/(?P<dcr>[^/]+)/streams/(?P<stream>[^/]+)$")


def reset_state():
    with LOCK:
        STATE.clear()
        STATE.update({"requests": [], "token_requests": [], "logs_requests": [], "rows": {}, "incidents": {},
                      "comments": {}, "incident_requests": [], "syslog": [], "syslog_rejects": 0, "webhook": []})
        FAULTS.clear()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_token(aud, appid):
    exp = int(time.time()) + int(CONFIG["token_lifetime"])
    payload = {"aud": aud, "iss": "https://sts.windows.net/%s/" % CONFIG["tenant"], "appid": appid, "exp": exp,
               "jti": uuid.uuid4().hex}
    tok = "%s.%s.%s" % (b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(payload).encode()), b64url(b"local"))
    with LOCK:
        ISSUED[tok] = {"aud": aud, "exp": exp}
    return tok, exp


def audience_for_scope(scope):
    # "https://monitor.azure.com/.default" and "https://monitor.azure.com//.default" both mean the resource.
    if not scope.endswith(".default"):
        return None
    return scope[: -len(".default")].rstrip("/")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AzureLocal/1.0"

    def log_message(self, fmt, *args):   # quiet
        pass

    # ---- plumbing -------------------------------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body=None, headers=None):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def apply_fault(self):
        with LOCK:
            for f in FAULTS:
                if f.get("count", 1) <= 0:
                    continue
                if f.get("match") and f["match"] not in self.path:
                    continue
                if f.get("method") and f["method"] != self.command:
                    continue
                f["count"] = f.get("count", 1) - 1
                f["hits"] = f.get("hits", 0) + 1
                fault = dict(f)
                break
            else:
                return False
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        action = fault.get("action", "status")
        if action == "slow":
            return False
        self.read_body()
        if action == "reset":
            # RST instead of FIN: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return True
        self.send(int(fault.get("status", 500)), fault.get("body", {"error": {"code": "InjectedFault", "message": "injected"}}),
                  fault.get("headers"))
        return True

    def bearer(self, audience):
        """Checks Authorization: Bearer for `audience`; returns an error tuple or None."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return "missing bearer token"
        tok = auth[len("Bearer "):]
        with LOCK:
            info = ISSUED.get(tok)
        if info is None:
            return "token not issued by this server (or revoked)"
        if info["exp"] < time.time():
            return "token expired"
        if info["aud"].rstrip("/") != audience:
            return "token audience %s is not %s" % (info["aud"], audience)
        return None

    def dispatch(self):
        self.parsed = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(self.parsed.query).items()}
        path = self.parsed.path
        if path.startswith("/_control/"):
            return self.control(path)
        if self.apply_fault():
            return
        if path.endswith("/oauth2/v2.0/token"):
            return self.token()
        if path == "/metadata/identity/oauth2/token":
            return self.imds()
        m = INGEST_RE.match(path)
        if m:
            return self.ingest(m)
        m = INCIDENT_RE.match(path)
        if m:
            return self.incidents(m)
        if path.startswith("/webhook"):
            return self.webhook()
        self.read_body()
        self.send(404, {"error": {"code": "NotFound", "message": "no route for %s" % path}})

    do_GET = do_POST = do_PUT = do_DELETE = lambda self: self.dispatch()

    # ---- control --------------------------------------------------------------------------------
    def control(self, path):
        body = self.read_body()
        req = json.loads(body) if body else {}
        if path == "/_control/state":
            with LOCK:
                return self.send(200, STATE)
        if path == "/_control/fault":
            with LOCK:
                FAULTS.append(req)
            return self.send(200, {"ok": True})
        if path == "/_control/faults":
            with LOCK:
                return self.send(200, FAULTS)
        if path == "/_control/config":
            with LOCK:
                if req.pop("revoke_tokens", False):
                    ISSUED.clear()
                CONFIG.update(req)
            return self.send(200, {"ok": True})
        if path == "/_control/incident_edit":
            with LOCK:
                inc = STATE["incidents"].get(req["id"])
                if inc is None:
                    return self.send(404, {"error": "no such incident"})
                for k in ("owner", "status", "classification", "severity"):
                    if k in req:
                        inc["properties"][k] = req[k]
                inc["etag"] = '"%s"' % uuid.uuid4()
                return self.send(200, inc)
        if path == "/_control/syslog_close":
            with LOCK:
                conns = list(SYSLOG_CONNS)
                SYSLOG_CONNS.clear()
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            return self.send(200, {"closed": len(conns)})
        if path == "/_control/reset":
            reset_state()
            return self.send(200, {"ok": True})
        self.send(404, {"error": "unknown control path"})

    # ---- Entra ID token endpoint ----------------------------------------------------------------
    def token(self):
        body = self.read_body()
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        tenant = self.parsed.path.split("/")[1]
        secret_ok = None
        entry = {"tenant": tenant, "content_type": self.headers.get("Content-Type"),
                 "form_keys": sorted(form.keys()), "grant_type": form.get("grant_type"), "scope": form.get("scope"),
                 "client_id": form.get("client_id"), "client_assertion_type": form.get("client_assertion_type")}
        with LOCK:
            STATE["token_requests"].append(entry)

        def fail(status, code, aadsts, text):
            self.send(status, {"error": code, "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nTimestamp: %s" % (aadsts, text, uuid.uuid4(), now_iso()),
                               "error_codes": [aadsts], "timestamp": now_iso(), "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())})

        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if tenant != CONFIG["tenant"]:
            return fail(400, "invalid_request", 90002, "Tenant '%s' not found." % tenant)
        if form.get("grant_type") != "client_credentials":
            return fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != CONFIG["client_id"]:
            return fail(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found." % form.get("client_id"))
        aud = audience_for_scope(form.get("scope", ""))
        if aud is None:
            return fail(400, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
        if "client_secret" in form:
            secret_ok = hmac.compare_digest(form["client_secret"], CONFIG["client_secret"])
            if not secret_ok:
                # --echo-secrets: a proxy or mock in front of Entra that echoes the request in its error.
                echoed = (" Received: client_secret=%s" % form["client_secret"]) if CONFIG.get("echo_secrets") else ""
                return fail(401, "invalid_client", 7000215, "Invalid client secret provided." + echoed)
        elif "client_assertion" in form:
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return fail(400, "invalid_request", 50027, "Invalid client_assertion_type.")
            expected = CONFIG.get("assertion")
            if expected is None or not hmac.compare_digest(form["client_assertion"], expected):
                return fail(400, "invalid_client", 700211, "No matching federated identity record found for presented assertion.")
        else:
            return fail(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        tok, exp = issue_token(aud, form["client_id"])
        life = int(CONFIG["token_lifetime"])
        self.send(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok})

    def imds(self):
        self.read_body()
        with LOCK:
            STATE["token_requests"].append({"imds": True, "query": self.query, "metadata": self.headers.get("Metadata")})
        if self.headers.get("Metadata") != "true":
            return self.send(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
        if self.query.get("api-version") != "2018-02-01":
            return self.send(400, {"error": "invalid_request", "error_description": "Invalid api-version"})
        resource = self.query.get("resource")
        if not resource:
            return self.send(400, {"error": "invalid_request", "error_description": "Required audience parameter not specified"})
        tok, exp = issue_token(resource.rstrip("/"), self.query.get("client_id", "system-assigned"))
        life = str(CONFIG["token_lifetime"])
        self.send(200, {"access_token": tok, "client_id": self.query.get("client_id", "00000000-0000-0000-0000-000000000000"),
                        "expires_in": life, "expires_on": str(exp), "ext_expires_in": life, "not_before": str(int(time.time())),
                        "resource": resource, "token_type": "Bearer"})

    # ---- Logs Ingestion -------------------------------------------------------------------------
    def ingest(self, m):
        raw = self.read_body()
        entry = {"kind": "logs", "method": self.command, "path": self.parsed.path, "query": self.query,
                 "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"},
                 "wire_bytes": len(raw), "status": None, "client_port": self.client_address[1]}

        def done(status, body=None, headers=None):
            entry["status"] = status
            with LOCK:
                STATE["logs_requests"].append(entry)
            self.send(status, body, headers)

        def err(status, code, msg):
            done(status, {"error": {"code": code, "message": msg}}, {"x-ms-error-code": code})

        if self.command != "POST":
            return err(405, "MethodNotAllowed", "Only POST is supported.")
        if "api-version" not in self.query:
            return err(400, "MissingApiVersion", "The api-version query parameter (?api-version=) is required for all requests.")
        why = self.bearer("https://monitor.azure.com")
        if why:
            return err(401, "InvalidToken", "The authentication token provided is invalid: %s." % why)
        dcr, stream = m.group("dcr"), m.group("stream")
        if dcr != CONFIG["dcr_id"]:
            return err(404, "NotFound", "Data collection rule with immutable Id '%s' not found." % dcr)
        schema = CONFIG["streams"].get(stream)
        if schema is None:
            return err(400, "InvalidStream", "Stream '%s' is not declared in data collection rule '%s'." % (stream, dcr))
        body = raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(raw)
            except Exception:
                return err(400, "InvalidContentEncoding", "The request body could not be decompressed as gzip.")
        entry["body_bytes"] = len(body)
        if len(body) > MAX_INGEST or len(raw) > MAX_INGEST:
            return err(413, "ContentLengthLimitExceeded",
                       "Maximum allowed content length: %d bytes (1 MB). Provided content length: %d bytes." % (MAX_INGEST, len(body)))
        try:
            rows = json.loads(body)
        except Exception as e:
            return err(400, "InvalidJson", "The request body is not valid JSON: %s" % e)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return err(400, "InvalidPayload", "The request body must be a JSON array of objects.")
        problem = check_rows(rows, schema)
        if problem:
            return err(400, "InvalidPayload", problem)
        entry["rows"] = len(rows)
        entry["first_row_keys"] = sorted(rows[0].keys()) if rows else []
        with LOCK:
            STATE["rows"].setdefault(stream, []).extend(rows)
        done(204)

    # ---- Sentinel incidents ---------------------------------------------------------------------
    def incidents(self, m):
        raw = self.read_body()
        entry = {"method": self.command, "path": self.parsed.path, "query": self.query, "incident": m.group("id"),
                 "comment": m.group("cid"), "content_type": self.headers.get("Content-Type"),
                 "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}}
        try:
            entry["body"] = json.loads(raw) if raw else None
        except Exception:
            entry["body"] = None
        with LOCK:
            STATE["incident_requests"].append(entry)

        def err(status, code, msg):
            entry["status"] = status
            self.send(status, {"error": {"code": code, "message": msg}})

        if "api-version" not in self.query:
            return err(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        why = self.bearer("https://management.azure.com")
        if why:
            return err(401, "AuthenticationFailed", "Authentication failed: %s." % why)
        iid, cid = m.group("id"), m.group("cid")
        if iid is None:
            if self.command == "PUT":
                return err(405, "UnsupportedApiVersion", "The HTTP method 'PUT' is not supported at scope '%s'." % self.parsed.path)
            with LOCK:
                return self.send(200, {"value": list(STATE["incidents"].values())})
        rid = self.parsed.path
        with LOCK:
            inc = STATE["incidents"].get(iid)
            if cid is not None:
                return self.comment(inc, iid, cid, entry, err)
            if self.command == "GET":
                if inc is None:
                    return err(404, "NotFound", "Resource '%s' does not exist." % iid)
                entry["status"] = 200
                return self.send(200, inc)
            if self.command == "DELETE":
                STATE["incidents"].pop(iid, None)
                entry["status"] = 200 if inc else 204
                return self.send(entry["status"])
            if self.command != "PUT":
                return err(405, "MethodNotAllowed", "Method not allowed.")
            req = entry["body"]
            if not isinstance(req, dict) or not isinstance(req.get("properties"), dict):
                return err(400, "BadRequest", "Request body is not a valid incident.")
            p = req["properties"]
            for k in ("title", "severity", "status"):
                if not p.get(k):
                    return err(400, "BadRequest", "The %s field is required." % k)
            if p["severity"] not in ("High", "Medium", "Low", "Informational"):
                return err(400, "BadRequest", "Invalid severity '%s'." % p["severity"])
            if p["status"] not in ("New", "Active", "Closed"):
                return err(400, "BadRequest", "Invalid status '%s'." % p["status"])
            if p["status"] == "Closed" and p.get("classification") not in ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive"):
                return err(400, "BadRequest", "Closing an incident requires a valid classification.")
            for label in p.get("labels", []):
                if not isinstance(label, dict) or not label.get("labelName"):
                    return err(400, "BadRequest", "Each label needs labelName.")
            if inc is not None and req.get("etag") is not None and req["etag"] != inc["etag"]:
                return err(409, "Conflict", "New version of resource '%s' exists. Data was not saved." % rid)
            now = now_iso()
            created = inc is None
            props = dict(p)
            props["labels"] = [{"labelName": l["labelName"], "labelType": "User"} for l in p.get("labels", [])]
            props["createdTimeUtc"] = now if created else inc["properties"]["createdTimeUtc"]
            props["lastModifiedTimeUtc"] = now
            props["incidentNumber"] = (len(STATE["incidents"]) + 1) if created else inc["properties"]["incidentNumber"]
            props["incidentUrl"] = "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident%s" % rid
            props["providerName"] = "Azure Sentinel"
            props["additionalData"] = {"alertsCount": 0, "bookmarksCount": 0,
                                       "commentsCount": len(STATE["comments"].get(iid, {})), "alertProductNames": [], "tactics": []}
            inc = {"id": rid, "name": iid, "type": "Microsoft.SecurityInsights/incidents",
                   "etag": '"%s"' % uuid.uuid4(), "properties": props}
            STATE["incidents"][iid] = inc
            entry["status"] = 201 if created else 200
            self.send(entry["status"], inc)

    def comment(self, inc, iid, cid, entry, err):
        if inc is None:
            # Vigil's Sentinel sink defers an alert's comment on this 404 until its incident exists.
            return err(404, "NotFound", "Incident '%s' does not exist." % iid)
        comments = STATE["comments"].setdefault(iid, {})
        if self.command == "GET":
            if cid not in comments:
                return err(404, "NotFound", "Comment '%s' does not exist." % cid)
            entry["status"] = 200
            return self.send(200, comments[cid])
        if self.command != "PUT":
            return err(405, "MethodNotAllowed", "Method not allowed.")
        req = entry["body"]
        msg = (req or {}).get("properties", {}).get("message") if isinstance(req, dict) else None
        if not msg:
            return err(400, "BadRequest", "The message field is required.")
        if len(msg) > 30000:
            return err(400, "BadRequest", "The comment message is longer than 30000 characters.")
        created = cid not in comments
        now = now_iso()
        comments[cid] = {"id": self.parsed.path, "name": cid, "type": "Microsoft.SecurityInsights/Incidents/Comments",
                         "etag": '"%s"' % uuid.uuid4(),
                         "properties": {"message": msg, "createdTimeUtc": comments.get(cid, {}).get("properties", {}).get("createdTimeUtc", now),
                                        "lastModifiedTimeUtc": now, "author": {"name": "vigil", "objectId": str(uuid.uuid4())}}}
        entry["status"] = 201 if created else 200
        self.send(entry["status"], comments[cid])

    # ---- webhook --------------------------------------------------------------------------------
    def webhook(self):
        raw = self.read_body()
        secret = CONFIG.get("webhook_secret")
        sig = self.headers.get("X-Vigil-Signature")
        valid = None
        if secret:
            expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            valid = sig is not None and hmac.compare_digest(sig, expected)
        entry = {"path": self.parsed.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": raw.decode("utf-8", "replace"), "signature_valid": valid}
        with LOCK:
            STATE["webhook"].append(entry)
        if valid is False:
            return self.send(401, {"error": "bad signature"})
        self.send(200, {"ok": True})


TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "real": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "dynamic": lambda v: True,
    "datetime": lambda v: isinstance(v, str) and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", v) is not None,
}


def check_rows(rows, schema):
    # Azure drops undeclared columns silently; this server rejects them so a drift between the
    # sink and deploy/dcr fails a test instead of losing a column in production.
    for i, row in enumerate(rows):
        for k, v in row.items():
            t = schema.get(k)
            if t is None:
                return "Row %d: column '%s' is not declared in the stream." % (i, k)
            if v is not None and not TYPE_CHECKS[t](v):
                return "Row %d: column '%s' is not a valid %s." % (i, k, t)
        if "TimeGenerated" not in row:
            return "Row %d: TimeGenerated is missing." % i
    return None


# ---- syslog ----------------------------------------------------------------------------------------
def split_unescaped(s, sep, maxsplit):
    out, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == sep and len(out) < maxsplit:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def unescape_header(s):
    return re.sub(r"\\([\\|])", r"\1", s)


def unescape_ext(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), s)


def parse_cef(msg):
    if not msg.startswith("CEF:"):
        return None
    parts = split_unescaped(msg, "|", 7)
    if len(parts) != 8:
        return None
    header = [unescape_header(p) for p in parts[:7]]
    ext = {}
    # A value runs until the next unescaped " key=".
    for m in re.finditer(r"(?:^|(?<= ))([A-Za-z0-9_]+)=((?:\\.|[^\\])*?)(?= [A-Za-z0-9_]+=|$)", parts[7]):
        ext[m.group(1)] = unescape_ext(m.group(2))
    return {"version": header[0][4:], "vendor": header[1], "product": header[2], "device_version": header[3],
            "signature": header[4], "name": header[5], "severity": header[6], "ext": ext}


def record_syslog(raw, transport, framing):
    text = raw.decode("utf-8", "replace")
    m = re.match(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?(.*)$", text, re.S)
    entry = {"transport": transport, "framing": framing, "raw": text}
    if m:
        pri = int(m.group(1))
        entry.update({"pri": pri, "facility": pri // 8, "severity": pri % 8, "timestamp": m.group(2), "host": m.group(3),
                      "app": m.group(4), "procid": m.group(5), "msgid": m.group(6), "msg": m.group(8)})
        entry["cef"] = parse_cef(m.group(8))
    with LOCK:
        if not m or entry.get("cef") is None:
            STATE["syslog_rejects"] += 1
        STATE["syslog"].append(entry)


class SyslogTCP(socketserver.BaseRequestHandler):
    def handle(self):
        with LOCK:
            SYSLOG_CONNS.append(self.request)
        buf = b""
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while buf:
                if buf[:1].isdigit():          # octet counting: "LEN SP MSG"
                    sp = buf.find(b" ")
                    if sp < 0:
                        break
                    n = int(buf[:sp])
                    if len(buf) < sp + 1 + n:
                        break
                    record_syslog(buf[sp + 1:sp + 1 + n], "tcp", "octet_counting")
                    buf = buf[sp + 1 + n:]
                else:                          # LF framing
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    record_syslog(buf[:nl], "tcp", "lf")
                    buf = buf[nl + 1:]


class SyslogUDP(socketserver.BaseRequestHandler):
    def handle(self):
        record_syslog(self.request[0], "udp", None)


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UDPServer(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True


def make_cert(directory):
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)
    return cert, key


def load_streams(path):
    with open(path) as f:
        dcr = json.load(f)
    decl = dcr["properties"]["streamDeclarations"]
    return {name: {c["name"]: c["type"] for c in s["columns"]} for name, s in decl.items()}


def main():
    # A parent may have blocked SIGTERM (test runners do); make sure `terminate()` works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--http-port", type=int, default=0)
    ap.add_argument("--tcp-port", type=int, default=0)
    ap.add_argument("--udp-port", type=int, default=0)
    ap.add_argument("--tls-dir", help="serve HTTPS with a self-signed cert made here (openssl CLI)")
    ap.add_argument("--tenant", default="00000000-0000-0000-0000-00000000000a")
    ap.add_argument("--client-id", default="00000000-0000-0000-0000-00000000000b")
    ap.add_argument("--client-secret", default="local-test-secret")
    ap.add_argument("--assertion", help="expected client_assertion (workload identity)")
    ap.add_argument("--token-lifetime", type=int, default=3600)
    ap.add_argument("--echo-secrets", action="store_true", help="echo a rejected client secret in the error body")
    ap.add_argument("--dcr", default=os.path.join(here, "..", "..", "deploy", "dcr", "vigil-dcr.json"))
    ap.add_argument("--dcr-id", default="dcr-0123456789abcdef0123456789abcdef")
    ap.add_argument("--webhook-secret")
    a = ap.parse_args()
    CONFIG.update({"tenant": a.tenant, "client_id": a.client_id, "client_secret": a.client_secret, "assertion": a.assertion,
                   "token_lifetime": a.token_lifetime, "dcr_id": a.dcr_id, "streams": load_streams(a.dcr),
                   "webhook_secret": a.webhook_secret, "echo_secrets": a.echo_secrets})
    reset_state()

    httpd = HTTPServer((a.host, a.http_port), Handler)
    scheme, ca = "http", None
    if a.tls_dir:
        cert, key = make_cert(a.tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        scheme, ca = "https", cert
    tcp = TCPServer((a.host, a.tcp_port), SyslogTCP)
    udp = UDPServer((a.host, a.udp_port), SyslogUDP)
    for srv in (tcp, udp):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("READY " + json.dumps({"http": httpd.server_address[1], "tcp": tcp.server_address[1], "udp": udp.server_address[1],
                                 "scheme": scheme, "ca": ca}), flush=True)
    try:
        httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
