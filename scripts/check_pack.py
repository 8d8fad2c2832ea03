#!/usr/bin/env python3
"""Check Vigil's detection pack (detections/) without the Swift engine.

For every rule file `X.yml` under detections/ (except fieldmap.yml and the `*.tests.yml` files):
  - the metadata: required keys, a fixed UUID v4 id unique across the pack, status, level, author,
    references, ATT&CK tags in v18 form, the Vigil block (entities, group_by, baseline area = folder,
    MCSB control ids, attack_v19 exactly where v19 renumbered a v18 technique);
  - the detection: every selection is used and every name in the condition is defined, only the
    modifiers this checker implements; a rule that reads a request or response body reads the
    assembled operation (logsource category `operation`), requires `status: Succeeded`, names only
    fields the assembled event has, and says so in its description;
  - that docs/detections.md lists the rule's id (when that page exists);
  - the tests beside it, `X.tests.yml`: at least 2 `match` and 2 `no_match` cases, every event of the
    rule's log source, each evaluated with the small Sigma evaluator below. Every match case must
    match and every no_match case must not; entity paths must resolve on every match case.
    A case is one `event` or a sequence `events`. Both are also assembled the way Vigil's
    OperationAssembler does (`assemble` below: records joined by correlationId and operation, status
    from the final record, Incomplete without one), and a rule of the `operation` log source is
    evaluated on those assembled operations, a raw-record rule on the records. Operation rules must
    test every lifecycle: a match that succeeded, and no_match cases that failed, were canceled and
    never completed (Start only).

Anomaly rules (`vigil_rule: anomaly`) and correlation files (a `correlation:` document, or several
documents) are skipped: they are not single Sigma rules, and `vigil rules test` runs their tests.

The evaluator is deliberately small and strict: case-insensitive field paths with dotted keys and
JSON-inside-strings decoded along the path (arrays fan out), wildcards `*` `?` with `\\` escapes,
lists = OR, and the modifiers contains, startswith, endswith, all, re (i, m, s), cidr, exists,
gt, gte, lt, lte, neq, cased. Anything else is reported as unsupported, not ignored.
Conditions: and, or, not, parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`.

Usage: python3 scripts/check_pack.py [DETECTIONS_DIR] [-v]
Exit status 0 when everything passes, 1 otherwise.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
import sys
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
AREAS = {"identity", "network", "data-protection", "threat-protection", "logging", "governance",
         "backup", "containers"}
SERVICES = {"activitylogs", "signinlogs", "auditlogs", "pim", "riskdetection", "resourcelogs"}
REQUIRED = ["title", "id", "status", "description", "references", "author", "date", "modified", "tags",
            "logsource", "detection", "falsepositives", "level", "vigil"]
LEVELS = {"informational", "low", "medium", "high", "critical"}
TACTICS = {"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
           "collection", "command-and-control", "exfiltration", "impact"}
# ATT&CK v18 -> v19 renumbering (aml-detections.md). Rules tag v18; the Vigil block carries v19.
V19 = {"t1562.001": "T1685", "t1562.007": "T1686.001", "t1562.008": "T1685.002"}
V19_ONLY = {"t1685", "t1685.002", "t1686", "t1686.001"}
MCSB = re.compile(r"^(NS|IM|PA|DP|AM|LT|IR|PV|ES|BR|DS|GS)-\d+$")
ENTITY_TYPES = {"Account", "IP", "AzureResource", "CloudApplication", "Host", "File", "Process", "URL"}
MODIFIERS = {"contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "exists",
             "gt", "gte", "lt", "lte", "neq", "cased"}
# The assembled operation (Sources/Detection/Stateful/OperationAssembler.swift, `assemble`): its
# top-level keys, and the log-source field names detections/fieldmap.yml maps for it.
OPERATION_KEYS = {"operationname", "correlationid", "resourceid", "caller", "calleripaddress", "status", "laststatus",
                  "firsttime", "lasttime", "requestbody", "responsebody", "records", "identity"}
OPERATION_FIELDS = OPERATION_KEYS | {"operationnamevalue", "activitystatusvalue", "categoryvalue", "category",
                                     "resourceprovidervalue", "resourcegroup", "subscriptionid"}
PHASES = {"start": "Started", "started": "Started", "accept": "Accepted", "accepted": "Accepted",
          "success": "Succeeded", "succeeded": "Succeeded", "failure": "Failed", "failed": "Failed",
          "cancel": "Canceled", "canceled": "Canceled", "cancelled": "Canceled"}
FINAL = {"Succeeded", "Failed", "Canceled"}
SIGNIN_CATEGORIES = {"signinlogs", "noninteractiveusersigninlogs", "serviceprincipalsigninlogs",
                     "managedidentitysigninlogs"}


class RuleError(Exception):
    pass


# --------------------------------------------------------------------------- field paths

def _decode(value):
    """A string holding a JSON object or array, decoded; anything else unchanged."""
    if isinstance(value, str):
        s = value.lstrip()
        if s[:1] in ("{", "["):
            try:
                return json.loads(value)
            except ValueError:
                return value
    return value


def lookup(node, path: str) -> list:
    """All values at a dotted, case-insensitive path (the semantics of FastJSON's JSONPathLookup).

    A key is compared as a prefix of the remaining path, so keys containing dots (claim URIs) match;
    strings holding JSON are traversed as the decoded value; arrays fan out, a numeric segment picks
    one element; an array found at the end of the path yields its elements.
    """
    out: list = []

    def walk(value, rest: str):
        if rest == "":
            if isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
            return
        value = _decode(value)
        if isinstance(value, list):
            head, _, tail = rest.partition(".")
            if head.isdigit():
                i = int(head)
                if i < len(value):
                    walk(value[i], tail)
                return
            for item in value:
                walk(item, rest)
            return
        if isinstance(value, dict):
            low = rest.lower()
            for key, child in value.items():
                k = key.lower()
                if low == k:
                    walk(child, "")
                elif low.startswith(k + "."):
                    walk(child, rest[len(k) + 1:])

    walk(node, path)
    return out


def classify(event: dict) -> str:
    """The Sigma service an event belongs to (what the engine's log-source mapping would say)."""
    if event.get("_operation"):
        return "operation"
    category = str(first(event, "category") or "").lower()
    if category in SIGNIN_CATEGORIES:
        return "signinlogs"
    if category == "auditlogs":
        return "auditlogs"
    if lookup(event, "identity.claims") or category in {"administrative", "security", "policy", "write",
                                                        "delete", "action"}:
        return "activitylogs"
    return "resourcelogs"


def first(event, path):
    vals = [v for v in lookup(event, path) if v is not None]
    return vals[0] if vals else None


def assemble(records: list[dict]) -> list[dict]:
    """Vigil's operation assembly, for the pack's short test sequences (no timeout: every operation
    without a final record is emitted Incomplete at the end). Records of one operation share
    (correlationId, operationName), compared case-insensitively; only Activity Log lifecycle records count."""
    groups: dict = {}
    for r in sorted(records, key=lambda r: str(r.get("time", ""))):
        phase = PHASES.get(str(first(r, "resultType") or first(r, "status") or "").lower())
        corr, op = first(r, "correlationId"), first(r, "operationName")
        if phase is None or not corr or not op or classify(r) != "activitylogs":
            continue
        groups.setdefault((str(corr).lower(), str(op).lower()), []).append((phase, r))
    out = []
    for (corr, op), recs in groups.items():
        start = next((r for p, r in recs if p == "Started"), None)
        final = next((r for p, r in reversed(recs) if p in FINAL), None)
        final_phase = next((p for p, r in reversed(recs) if p in FINAL), None)
        accepted = next((r for p, r in reversed(recs) if p == "Accepted"), None)
        base = start or recs[0][1]
        doc = {"operationName": first(base, "operationName"), "correlationId": first(base, "correlationId")}
        for key in ("resourceId", "callerIpAddress"):
            v = next((first(r, key) for r in [start, final, recs[0][1]] if r and first(r, key)), None)
            if v:
                doc[key] = v
        doc["status"] = final_phase or "Incomplete"
        if final is None:
            doc["lastStatus"] = recs[-1][0]
        doc["firstTime"], doc["lastTime"] = recs[0][1].get("time"), recs[-1][1].get("time")
        if start is not None and lookup(start, "properties.requestbody"):
            doc["requestBody"] = _decode(lookup(start, "properties.requestbody")[0])
        resp = final if final is not None else accepted
        if resp is not None and lookup(resp, "properties.responseBody"):
            doc["responseBody"] = _decode(lookup(resp, "properties.responseBody")[0])
        doc["records"] = len(recs)
        doc["identity"] = base.get("identity")
        doc["_operation"] = True
        out.append(doc)
    return out


def typed(event: dict, name: str):
    """The few `vigil.*` typed fields the pack's entities use, as the normaliser would fill them."""
    kind = classify(event)
    upn_claim = "identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
    if name == "kind":
        return kind
    if name == "operationname":
        return first(event, "operationName")
    if name == "operation":
        op = first(event, "operationName")
        return op.lower() if isinstance(op, str) else None
    if name == "caller":
        if kind == "signinlogs":
            return first(event, "properties.userPrincipalName")
        if kind == "auditlogs":
            return (first(event, "properties.initiatedBy.user.userPrincipalName")
                    or first(event, "properties.initiatedBy.app.displayName"))
        return (first(event, upn_claim) or first(event, "identity.claims.name")
                or first(event, "identity.claim.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn")
                or first(event, "identity.requester.upn")
                or first(event, "identity.claims.appid")
                or first(event, "identity.claims.http://schemas.microsoft.com/identity/claims/objectidentifier"))
    if name == "callerip":
        return first(event, "callerIpAddress") or first(event, "properties.initiatedBy.user.ipAddress")
    if name == "callerappid":
        return (first(event, "identity.claims.appid") or first(event, "properties.appId")
                or first(event, "identity.claim.appid"))
    if name == "resource.id":
        rid = first(event, "resourceId")
        return None if kind in ("signinlogs", "auditlogs") else rid
    if name == "category":
        return first(event, "category")
    if name == "result":
        return first(event, "status") if kind == "operation" else first(event, "resultType")
    raise RuleError(f"vigil.{name} is not emulated by check_pack.py")


# Field names the field map sends to typed fields, per log source (the pack uses these).
MAPPED = {"operationname": "vigil.operationName", "status": "vigil.result"}


def values_at(event: dict, path: str) -> list:
    if event.get("_operation") and path.lower() in MAPPED:
        path = MAPPED[path.lower()]
    if path.lower().startswith("vigil."):
        v = typed(event, path[6:].lower())
        return [] if v is None else [v]
    return lookup(event, path)


# --------------------------------------------------------------------------- value matching

def text(v) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if isinstance(v, str):
        return v
    return None


def wildcard_regex(pattern: str, mode: str) -> str:
    """Sigma string → regex. `*` any run, `?` one char, `\\` escapes `*`, `?` and itself."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    body = "".join(out)
    if mode == "contains":
        body = ".*" + body + ".*"
    elif mode == "startswith":
        body = body + ".*"
    elif mode == "endswith":
        body = ".*" + body
    return body


class Item:
    """One `field|modifiers: values` entry, compiled."""

    def __init__(self, key: str, raw):
        parts = key.split("|")
        self.field, mods = parts[0], parts[1:]
        for m in mods:
            if m not in MODIFIERS:
                raise RuleError(f"unsupported modifier '{m}' in '{key}'")
        self.mods = set(mods)
        self.values = raw if isinstance(raw, list) else [raw]
        self.all = "all" in self.mods
        self.cased = "cased" in self.mods
        if "exists" in self.mods:
            if len(self.values) != 1 or not isinstance(self.values[0], bool):
                raise RuleError(f"'{key}' needs a single true/false")
        self.matchers = [self._compile(v, key) for v in self.values]

    def _compile(self, v, key):
        mods = self.mods
        if "exists" in mods:
            return None
        if "re" in mods:
            flags = (0 if "i" not in mods else re.I) | (re.M if "m" in mods else 0) | (re.S if "s" in mods else 0)
            try:
                return re.compile(str(v), flags)
            except re.error as e:
                raise RuleError(f"bad regex in '{key}': {e}")
        if mods & {"i", "m", "s"}:
            raise RuleError(f"'{key}': i/m/s only go with re")
        if "cidr" in mods:
            try:
                return ipaddress.ip_network(str(v), strict=False)
            except ValueError as e:
                raise RuleError(f"bad CIDR in '{key}': {e}")
        if mods & {"gt", "gte", "lt", "lte"}:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise RuleError(f"'{key}' needs a number")
            return v
        if v is None:
            return None
        mode = next((m for m in ("contains", "startswith", "endswith") if m in mods), "exact")
        t = text(v)
        if t is None:
            raise RuleError(f"'{key}': unsupported value {v!r}")
        return re.compile("^" + wildcard_regex(t, mode) + "$", 0 if self.cased else re.I | re.S)

    def one(self, matcher, raw_value, present: list) -> bool:
        mods = self.mods
        if raw_value is None:  # `field: null`
            return all(p is None for p in present)
        if "neq" in mods:
            return any(text(p) is not None and not matcher.match(text(p)) for p in present)
        for p in present:
            if "re" in mods:
                t = text(p)
                if t is not None and matcher.search(t):
                    return True
            elif "cidr" in mods:
                t = text(p)
                try:
                    if t is not None and ipaddress.ip_address(t) in matcher:
                        return True
                except ValueError:
                    pass
            elif mods & {"gt", "gte", "lt", "lte"}:
                try:
                    n = float(text(p))
                except (TypeError, ValueError):
                    continue
                if (("gt" in mods and n > matcher) or ("gte" in mods and n >= matcher)
                        or ("lt" in mods and n < matcher) or ("lte" in mods and n <= matcher)):
                    return True
            else:
                t = text(p)
                if t is not None and matcher.match(t):
                    return True
        return False

    def matches(self, event) -> bool:
        present = values_at(event, self.field)
        if "exists" in self.mods:
            has = any(p is not None for p in present)
            return has == self.values[0]
        results = (self.one(m, raw, present) for m, raw in zip(self.matchers, self.values))
        return all(results) if self.all else any(results)


class Selection:
    def __init__(self, name, body):
        self.name = name
        if isinstance(body, dict):
            self.groups = [[Item(k, v) for k, v in body.items()]]
        elif isinstance(body, list) and body and all(isinstance(b, dict) for b in body):
            self.groups = [[Item(k, v) for k, v in b.items()] for b in body]
        else:
            raise RuleError(f"selection '{name}': keyword lists and other forms are not used by the pack")

    def matches(self, event) -> bool:
        return any(all(i.matches(event) for i in group) for group in self.groups)

    def fields(self):
        return [i.field for g in self.groups for i in g]


# --------------------------------------------------------------------------- conditions

TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def parse_condition(cond: str, names: list[str]):
    """Recursive descent: or < and < not < primary. Returns (evaluator, referenced names)."""
    tokens = TOKEN.findall(cond)
    pos = 0
    used: set[str] = set()

    def peek():
        return tokens[pos].lower() if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expand(pattern: str):
        if pattern == "them":
            found = [n for n in names if not n.startswith("_")]
        else:
            found = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not found:
            raise RuleError(f"condition: '{pattern}' matches no selection")
        used.update(found)
        return found

    def primary():
        t = peek()
        if t is None:
            raise RuleError("condition ends early")
        if t == "(":
            take()
            e = or_expr()
            if peek() != ")":
                raise RuleError("condition: missing ')'")
            take()
            return e
        if t in ("1", "any", "all") and pos + 1 < len(tokens) and tokens[pos + 1].lower() == "of":
            quant = take().lower()
            take()
            if peek() is None:
                raise RuleError("condition: 'of' needs a target")
            sels = expand(take())
            if quant == "all":
                return lambda ev, s=sels: all(ev[n] for n in s)
            return lambda ev, s=sels: any(ev[n] for n in s)
        if t in ("and", "or", "not", ")", "of"):
            raise RuleError(f"condition: unexpected '{t}'")
        name = take()
        if name not in names:
            raise RuleError(f"condition: undefined selection '{name}'")
        used.add(name)
        return lambda ev, n=name: ev[n]

    def not_expr():
        if peek() == "not":
            take()
            inner = not_expr()
            return lambda ev: not inner(ev)
        return primary()

    def binary(word, operand, combine):
        """Left-associative chain of `operand (word operand)*`."""
        def parse():
            left = operand()
            while peek() == word:
                take()
                right = operand()
                left = (lambda l, r: lambda ev: combine(l(ev), r(ev)))(left, right)
            return left
        return parse

    and_expr = binary("and", not_expr, lambda a, b: a and b)

    def or_expr():
        return binary("or", and_expr, lambda a, b: a or b)()

    expr = or_expr()
    if pos != len(tokens):
        raise RuleError(f"condition: unexpected '{tokens[pos]}'")
    return expr, used


class CompiledRule:
    def __init__(self, detection: dict):
        if "condition" not in detection:
            raise RuleError("detection has no condition")
        cond = detection["condition"]
        if isinstance(cond, list):
            raise RuleError("lists of conditions are not used by the pack")
        self.selections = {n: Selection(n, b) for n, b in detection.items() if n != "condition"}
        names = list(self.selections)
        self.expr, used = parse_condition(str(cond), names)
        unused = [n for n in names if n not in used]
        if unused:
            raise RuleError(f"unused selection(s): {', '.join(unused)}")

    def matches(self, event) -> bool:
        results = {n: s.matches(event) for n, s in self.selections.items()}
        return self.expr(results)

    def fields(self):
        return [f for s in self.selections.values() for f in s.fields()]


# --------------------------------------------------------------------------- pack checks

def check_rule(path: Path, rule: dict, raw_text: str, ids: dict, problems: list) -> CompiledRule | None:
    def bad(msg):
        problems.append(f"{path}: {msg}")

    for key in REQUIRED:
        if key not in rule:
            bad(f"missing '{key}'")
    rid = str(rule.get("id", ""))
    try:
        if uuid.UUID(rid).version != 4 or str(uuid.UUID(rid)) != rid:
            bad(f"id {rid} is not a canonical UUID v4")
    except ValueError:
        bad(f"id {rid!r} is not a UUID")
    if rid in ids:
        bad(f"duplicate id {rid} (also {ids[rid]})")
    ids[rid] = path
    if rule.get("status") not in ("experimental", "test"):
        bad("status must be experimental or test")
    if rule.get("level") not in LEVELS:
        bad(f"level {rule.get('level')!r}")
    if rule.get("author") != "Vigil":
        bad("author must be Vigil")
    for d in ("date", "modified"):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(rule.get(d, ""))):
            bad(f"{d} must be YYYY-MM-DD")
    refs = rule.get("references") or []
    if not refs or not all(str(r).startswith("https://") for r in refs):
        bad("references must be https URLs")
    if not any("learn.microsoft.com" in str(r) for r in refs):
        bad("references: cite at least one Microsoft docs page")
    if not rule.get("falsepositives"):
        bad("falsepositives is empty")

    tags = [str(t) for t in rule.get("tags") or []]
    techniques, tactics = set(), set()
    for t in tags:
        m = re.fullmatch(r"attack\.(t\d{4}(?:\.\d{3})?)", t)
        if m:
            techniques.add(m.group(1))
        elif t.startswith("attack.") and t[7:] in TACTICS:
            tactics.add(t[7:])
        else:
            bad(f"tag {t!r} is neither a v18 tactic nor a technique id")
    if not techniques or not tactics:
        bad("needs at least one attack tactic and one technique")
    if techniques & V19_ONLY:
        bad("tags must use ATT&CK v18 ids; put v19 ids in vigil.attack_v19")

    ls = rule.get("logsource") or {}
    if ls.get("product") != "azure" or ls.get("service") not in SERVICES:
        bad(f"logsource {ls}")
    if ls.get("service") == "resourcelogs" and not ls.get("category"):
        bad("resourcelogs rules name their category")

    v = rule.get("vigil") or {}
    area = path.parent.name
    baseline = v.get("baseline") or {}
    if area not in AREAS:
        bad(f"folder {area} is not a baseline area")
    if baseline.get("area") != area:
        bad(f"vigil.baseline.area {baseline.get('area')!r} != folder {area!r}")
    controls = baseline.get("controls") or []
    if not controls or not all(MCSB.match(str(c)) for c in controls):
        bad(f"vigil.baseline.controls {controls!r}")
    entities = v.get("entities") or {}
    if not entities or not set(entities) <= ENTITY_TYPES:
        bad(f"vigil.entities {entities!r}")
    if not set(v.get("group_by") or []) <= set(entities) or not v.get("group_by"):
        bad("vigil.group_by must name entities of the rule")
    if v.get("group_match") not in ("any", "all"):
        bad("vigil.group_match must be any or all")
    want_v19 = sorted({V19[t] for t in techniques if t in V19})
    have_v19 = sorted(str(x) for x in v.get("attack_v19") or [])
    if want_v19 != have_v19:
        bad(f"vigil.attack_v19 {have_v19} should be {want_v19}")

    try:
        compiled = CompiledRule(rule.get("detection") or {})
    except RuleError as e:
        bad(str(e))
        return None
    fields = compiled.fields()
    reads_body = any(re.search(r"(requestbody|responsebody)", f, re.I) for f in fields)
    operation = str(ls.get("category", "")).lower() == "operation"
    if reads_body and not operation:
        bad("reads a request/response body: read the assembled operation (logsource category: operation)")
    if operation:
        if ls.get("service") != "activitylogs":
            bad("category operation is an activitylogs log source")
        unknown = sorted({f for f in fields if f.split(".")[0].lower() not in OPERATION_FIELDS
                          and not f.lower().startswith("vigil.")})
        if unknown:
            bad(f"fields the assembled operation does not have: {', '.join(unknown)} "
                "(the body is under requestBody. / responseBody., decoded)")
        if not any(f.lower() in ("status", "vigil.result") for f in fields):
            bad("an operation rule tests the final status (status: Succeeded)")
        if "assembled operation" not in " ".join(str(rule.get("description", "")).split()):
            bad("an operation rule's description says it reads the assembled operation")
    return compiled


def check_tests(path: Path, rule: dict, compiled: CompiledRule, problems: list, verbose: bool) -> int:
    tpath = path.with_name(path.stem + ".tests.yml")
    if not tpath.exists():
        problems.append(f"{path}: no tests file {tpath.name}")
        return 0
    tests = yaml.safe_load(tpath.read_text()) or {}
    extra = set(tests) - {"match", "no_match"}
    if extra:
        problems.append(f"{tpath}: unknown keys {sorted(extra)}")
    service = (rule.get("logsource") or {}).get("service")
    category = (rule.get("logsource") or {}).get("category")
    operation = str(category or "").lower() == "operation"
    entities = (rule.get("vigil") or {}).get("entities") or {}
    count = 0
    lifecycles: set[str] = set()
    for kind, expected in (("match", True), ("no_match", False)):
        cases = tests.get(kind) or []
        if len(cases) < 2:
            problems.append(f"{tpath}: needs at least 2 '{kind}' cases, has {len(cases)}")
        names = set()
        for case in cases:
            name = case.get("name")
            records = case.get("events") if "events" in case else [case.get("event")]
            if not name or not isinstance(records, list) or not records or not all(isinstance(e, dict) for e in records):
                problems.append(f"{tpath}: every case needs a name and an event object (or a list of them, events)")
                continue
            if name in names:
                problems.append(f"{tpath}: duplicate case name {name!r}")
            names.add(name)
            count += 1
            for event in records:
                got_service = classify(event)
                if got_service != service:
                    problems.append(f"{tpath}: [{kind}] {name}: event is {got_service}, rule reads {service}")
                if category and not operation and str(event.get("category", "")).lower() != str(category).lower():
                    problems.append(f"{tpath}: [{kind}] {name}: category {event.get('category')!r} != {category!r}")
            # What the rule meets: the assembled operations, or the raw records.
            seen = assemble(records) if operation else records
            if operation:
                lifecycles.update(f"{kind}:{op['status']}" for op in seen)
            try:
                hits = [ev for ev in seen if compiled.matches(ev)]
            except RuleError as e:
                problems.append(f"{tpath}: [{kind}] {name}: {e}")
                continue
            if bool(hits) != expected:
                problems.append(f"{tpath}: [{kind}] {name}: rule {'matched' if hits else 'did not match'}")
            elif verbose:
                print(f"  ok  {tpath.name} [{kind}] {name}")
            if len(hits) > 1 and operation:
                problems.append(f"{tpath}: [{kind}] {name}: {len(hits)} operations matched (one operation, one alert)")
            for event in hits[:1] if expected else []:
                for etype, epath in entities.items():
                    if not values_at(event, str(epath)):
                        problems.append(f"{tpath}: [{kind}] {name}: entity {etype} ({epath}) is empty")
    if operation:
        want = {"match:Succeeded", "no_match:Failed", "no_match:Canceled", "no_match:Incomplete"}
        if not want <= lifecycles:
            problems.append(f"{tpath}: operation rule tests miss lifecycles: {', '.join(sorted(want - lifecycles))}")
    return count


def rule_files(root: Path):
    for p in sorted(root.rglob("*.yml")):
        if p.name.endswith(".tests.yml") or p.name == "fieldmap.yml":
            continue
        yield p


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    root = Path(args[0]) if args else ROOT / "detections"
    problems: list[str] = []
    ids: dict = {}
    rules = cases = skipped = 0
    seen_tests = set()
    for path in rule_files(root):
        raw = path.read_text()
        try:
            rule = yaml.safe_load(raw)
        except yaml.composer.ComposerError:
            skipped += 1          # several documents: a correlation file (vigil rules test runs it)
            seen_tests.add(path.with_name(path.stem + ".tests.yml"))
            continue
        except yaml.YAMLError as e:
            problems.append(f"{path}: YAML: {e}")
            continue
        if isinstance(rule, dict) and (rule.get("vigil_rule") == "anomaly" or "correlation" in rule):
            skipped += 1
            seen_tests.add(path.with_name(path.stem + ".tests.yml"))
            continue
        if not isinstance(rule, dict) or "detection" not in rule:
            problems.append(f"{path}: not a Sigma rule")
            continue
        rules += 1
        compiled = check_rule(path, rule, raw, ids, problems)
        seen_tests.add(path.with_name(path.stem + ".tests.yml"))
        if compiled:
            cases += check_tests(path, rule, compiled, problems, verbose)
    for t in sorted(root.rglob("*.tests.yml")):
        if t not in seen_tests:
            problems.append(f"{t}: tests without a rule")
    docs = root.parent / "docs" / "detections.md"
    if docs.exists():
        listed = docs.read_text()
        for rid, path in ids.items():
            if rid not in listed:
                problems.append(f"{path}: id {rid} is missing from {docs.name}")
    for p in problems:
        print(p)
    print(f"check_pack: {rules} rules, {cases} test cases, {len(problems)} problem(s) "
          f"({skipped} anomaly/correlation file(s) skipped)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
