#!/usr/bin/env python3
"""Captures the requests Microsoft's own SDKs send, so a test can compare Vigil's wire format with them.

  azure-monitor-ingestion  LogsIngestionClient.upload(rule_id, stream_name, logs)
  azure-mgmt-securityinsight SecurityInsights.incidents.create_or_update / incident_comments.create_or_update

Both are pointed at a local capture server (plain HTTP; `enforce_https=False` lets azure-core send the
bearer token anyway). Prints one JSON object: {"logs": [...], "incident": {...}, "comment": {...},
"scopes": [...], "versions": {...}}. Exit code 3 when a package is missing (the Swift test then skips).

Usage: sdk_crosscheck.py [--dcr-id dcr-…] [--stream Custom-VigilAlerts_CL]
"""
import argparse
import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    from azure.core.credentials import AccessToken
    from azure.monitor.ingestion import LogsIngestionClient
    import azure.monitor.ingestion as ingestion_pkg
except ImportError as e:   # pragma: no cover
    print(json.dumps({"missing": str(e)}))
    sys.exit(3)
try:
    from azure.mgmt.securityinsight import SecurityInsights
    from azure.mgmt.securityinsight import models as si_models
    import azure.mgmt.securityinsight as si_pkg
except ImportError:
    SecurityInsights = None

CAPTURED = []


class Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        body = raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(raw)
        try:
            parsed = json.loads(body) if body else None
        except Exception:
            parsed = None
        u = urlsplit(self.path)
        CAPTURED.append({"method": self.command, "path": u.path, "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                         "headers": {k.lower(): (v if k.lower() != "authorization" else v.split(" ")[0]) for k, v in self.headers.items()},
                         "body": parsed, "body_bytes": len(body), "wire_bytes": len(raw)})
        if "/dataCollectionRules/" in u.path:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        out = json.dumps({"id": u.path, "name": u.path.rsplit("/", 1)[-1], "etag": '"1"',
                          "properties": dict((parsed or {}).get("properties", {}), **{"incidentNumber": 1})}).encode()
        self.send_response(201 if self.command == "PUT" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


class FakeCredential:
    def __init__(self):
        self.scopes = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.extend(scopes)
        return AccessToken("local-token", int(time.time()) + 3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcr-id", default="dcr-0123456789abcdef0123456789abcdef")
    ap.add_argument("--stream", default="Custom-VigilAlerts_CL")
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    cred = FakeCredential()
    result = {"versions": {"azure-monitor-ingestion": ingestion_pkg.__version__}}

    client = LogsIngestionClient(endpoint=base, credential=cred, logging_enable=False)
    rows = [{"TimeGenerated": "2025-03-04T09:15:02Z", "AlertId": "a%d" % i, "RuleId": "aml-listkeys"} for i in range(3)]
    client.upload(rule_id=a.dcr_id, stream_name=a.stream, logs=rows, enforce_https=False)
    result["logs"] = [c for c in CAPTURED if "/dataCollectionRules/" in c["path"]]

    if SecurityInsights is not None:
        result["versions"]["azure-mgmt-securityinsight"] = si_pkg.__version__ if hasattr(si_pkg, "__version__") else "?"
        si = SecurityInsights(cred, "sub-1", base_url=base)
        inc = si_models.Incident(title="Credential access on ws1", severity="High", status="New", description="d",
                                 labels=[si_models.IncidentLabel(label_name="vigil")],
                                 first_activity_time_utc="2025-03-04T09:15:02Z", last_activity_time_utc="2025-03-04T09:20:00Z")
        si.incidents.create_or_update("rg-sec", "law-sec", "6f1c2a9e-0b7d-4c1e-9a51-3f0c8e2d7b14", inc, enforce_https=False)
        si.incident_comments.create_or_update("rg-sec", "law-sec", "6f1c2a9e-0b7d-4c1e-9a51-3f0c8e2d7b14", "c1",
                                              si_models.IncidentComment(message="hello"), enforce_https=False)
        result["incident"] = next((c for c in CAPTURED if c["method"] == "PUT" and "/comments/" not in c["path"] and "/incidents/" in c["path"]), None)
        result["comment"] = next((c for c in CAPTURED if "/comments/" in c["path"]), None)
    result["scopes"] = sorted(set(cred.scopes))
    print(json.dumps(result))
    server.shutdown()


if __name__ == "__main__":
    main()
