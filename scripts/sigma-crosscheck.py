#!/usr/bin/env python3
"""Cross-check Vigil's Sigma matches against pySigma's SQLite backend (an independent reference).

Needs:  pip install pysigma pysigma-backend-sqlite      (PyYAML comes with pysigma)

    scripts/sigma-crosscheck.py --vigil .build/debug/vigil [--rules DIR] [--corpus DIR] [--report FILE] [-v]

What it does (docs/conformance.md explains the method):
  1. Records: every .json/.jsonl/.csv under CORPUS/{activity,signin,resource,defender} except the
     Panther `*.labels.jsonl` files. `vigil events` prints each normalised event (its `vigil` block:
     id, kind, shape, typed fields; and the raw record), so both sides see the same events and the
     record key is Vigil's event id.
  2. Vigil's side: `vigil replay FILES --rules RULES/rules --rules RULES/rules-threat-hunting
     --output jsonl:TMP --state TMPDB`; every `{"type":"alert"}` line gives (ruleId, eventIds).
     rules-placeholder needs site values: with --placeholders (the default) each of its rules is
     written to a temporary folder with `|expand` dropped and `%Name%` replaced by the value in
     PLACEHOLDERS below (chosen so that some corpus events hit and some miss), and both sides run
     that copy. pySigma cannot expand placeholders without a site pipeline, Vigil's replay takes no
     placeholder values: the substituted text is the same rule for both.
  3. pySigma's side: each rule is converted with `sqliteBackend(collate_nocase=True,
     fulltext_field="__fulltext")`. Per rule, one SQLite table holds the events of the kinds the
     rule's log source meets (detections/fieldmap.yml `kinds`, plus `category_field`); its columns
     are the Sigma field names the rule reads, each resolved through the same field map:
       - a mapped name takes its path (per shape: `{resourceLogExport: …, default: …}`); a list of
         paths gives the first with a value, `{union: [...]}` all of them, `list[key=name].value`
         the values of the entries whose `key` is `name`;
       - `vigil.*` paths read the event's typed fields (the `vigil` block of `vigil events`);
       - other paths read the raw record, case-insensitively, dotted keys descending into objects
         and into JSON held in strings, arrays giving one value per element (an empty array: `[]`);
       - an unmapped name goes through the entry's `unmapped` templates, else is a raw record path.
     A `--rules` folder named rules-placeholder gets the PLACEHOLDERS values like the corpus's.
     A field with several values (arrays) gives one row per combination; an event matches when
     any of its rows does. `__fulltext` (keyword searches) holds every string of the record,
     newline-joined. Columns are COLLATE NOCASE, so `=` is case-insensitive as the Sigma spec
     says (SQLite's default `=` is not); REGEXP is Python's `re.search` (case-sensitive unless
     the rule asks for `i`, as the spec says).
  4. Compares the (rule id, event id) sets per rule. Exit 0 when identical, 1 on any difference,
     2 when pySigma is missing or vigil fails.
"""
import argparse, csv, glob, itertools, json, os, re, sqlite3, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KIND_DIRS = ("activity", "signin", "resource", "defender")
# Site values for the rules in rules-placeholder (see the module docstring).
PLACEHOLDERS = {
    "ApprovedUserUpn": "admin@contoso.com",
    "Approved_Inviters": "admin@contoso.com",
    "Important_AppIds": "cfceb902-8fab-4f8c-88ba-374d3c975c3a",
    "Known_Location": "US",
    "UnLegitCountries": "RU",
    "UnApprovedIp": "203.0.113.7",
    "UnApprovedDevice": "00000000-0000-0000-0000-000000000000",
    "HomeTenantID": "2ad3fc79-1859-42fa-9011-6f8df2251b22",
    # Further names SigmaHQ's rules-placeholder uses (the fetched full set, not only the corpus's):
    "LegitCountries": "US",
    "ClosingTime": "22:00",
    "UPN": "adelev@m365x816222.onmicrosoft.com",
    "location": "US",
    "corporate_ip_ranges": "10.0.0.1",
}
EXPAND = re.compile(r"^(\s*[^\s:#][^:]*?)\|expand(\s*:\s*)'%(\w+)%'\s*$", re.M)


def materialise_placeholders(src_dir, out_dir):
    """Copies the rules of src_dir to out_dir with every `field|…|expand: '%Name%'` given its value."""
    for path in glob.glob(os.path.join(src_dir, "**", "*.yml"), recursive=True):
        text = open(path, encoding="utf-8").read()
        text = EXPAND.sub(lambda m: f"{m.group(1)}{m.group(2)}'{PLACEHOLDERS[m.group(3)]}'", text)
        dest = os.path.join(out_dir, os.path.relpath(path, src_dir))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)


def corpus_files(corpus):
    out = []
    for d in KIND_DIRS:
        for p in glob.glob(os.path.join(corpus, d, "**", "*"), recursive=True):
            if os.path.isfile(p) and p.endswith((".json", ".jsonl", ".csv")) and not p.endswith(".labels.jsonl"):
                out.append(p)
    return sorted(out)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


# ---- field resolution (mirrors FieldMap + JSONPathLookup) -------------------------------------

def lookup(value, parts):
    """Values at a dotted path: case-insensitive keys, JSON-in-strings transparent, arrays fan out."""
    if isinstance(value, str) and parts:
        s = value.strip()
        if s[:1] in ("{", "["):
            try:
                value = json.loads(s)
            except ValueError:
                return []
    if isinstance(value, list):
        if not value and not parts:
            return [value]          # an empty array is a value of its own: `[]` (as Vigil reads it)
        return [v for item in value for v in lookup(item, parts)]
    if not parts:
        return [value]
    if not isinstance(value, dict):
        return []
    # Dotted keys ("DeviceDetail.trustType" as one key) are tried longest first.
    out = []
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n]).lower()
        for k, v in value.items():
            if k.lower() == key:
                out += lookup(v, parts[n:])
        if out:
            return out
    return out


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return v


def strings(value, out):
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            strings(v, out)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)


# --typed-from-raw: Vigil's typed fields read straight from the raw record, per shape (first path present
# wins), so the normaliser is checked too. Only the typed fields the field map uses.
RAW_TYPED = {
    # Some exports (Panther's fixtures) carry the REST form {"value", "localizedValue"}: the value counts.
    "operationName": {"resourceLogExport": ["operationName.value", "operationName"], "activityREST": ["operationName.value", "operationName"],
                      "logAnalytics": ["OperationNameValue", "OperationName"], "graph": ["activityDisplayName"]},
    "category": {"resourceLogExport": ["category"], "activityREST": ["category.value", "category"],
                 "logAnalytics": ["CategoryValue", "Category"], "graph": ["category"]},
    "result": {"resourceLogExport": ["resultType", "properties.result"], "activityREST": ["status.value", "status"],
               "logAnalytics": ["ActivityStatusValue", "ResultType", "Result"], "graph": ["status.errorCode", "result"]},
    "callerIp": {"resourceLogExport": ["callerIpAddress"], "activityREST": ["httpRequest.clientIpAddress"],
                 "logAnalytics": ["CallerIpAddress", "IPAddress"], "graph": ["ipAddress"]},
    "callerAppId": {"resourceLogExport": ["properties.appId"], "logAnalytics": ["AppId"], "graph": ["appId"]},
    "title": {"defenderREST": ["properties.alertDisplayName"], "logAnalytics": ["AlertName", "DisplayName"]},
    "correlationId": {"resourceLogExport": ["correlationId"], "activityREST": ["correlationId"], "logAnalytics": ["CorrelationId"]},
}


def raw_outcome(event):
    """Vigil's `outcome` from the raw record (for --typed-from-raw): sign-ins by error code, others by result word."""
    result = None
    for candidate in RAW_TYPED["result"].get(event["shape"], []):
        found = lookup(event["record"], candidate.split("."))
        if found and not isinstance(found[0], (dict, list)):
            result = str(found[0]).lower()
            break
    if not result:
        return []
    if event["kind"] == "signIn" and result.isdigit():
        return ["success" if result == "0" else "failure"]
    word = {"success": "success", "succeeded": "success", "failure": "failure", "failed": "failure"}.get(result)
    if word is None and result == "timeout" and event["kind"] == "audit":
        word = result
    return [word] if word else []


KEYED = re.compile(r"^([^\[]+)\[([^=\]]+)=([^\]]+)\]\.(.+)$")


class FieldMap:
    """Mirrors Sources/Detection/Compiler/FieldMap.swift: entry choice, path specs, `unmapped` templates."""
    typed_from_raw = False

    def __init__(self, path):
        import yaml
        self.sources = yaml.safe_load(open(path, encoding="utf-8")).get("logsources", [])

    def source(self, logsource):
        def eq(a, b):
            return (a.lower() if isinstance(a, str) else a) == (b.lower() if isinstance(b, str) else b)
        best, best_score = None, -1
        for s in self.sources:
            score = 0
            if s.get("product") is not None:
                if not eq(str(s["product"]), logsource.product):
                    continue
                score += 1
            if s.get("service") is not None:
                names = s["service"] if isinstance(s["service"], list) else [s["service"]]
                if not any(eq(str(n), logsource.service) for n in names):
                    continue
                score += 1
            elif logsource.service:
                continue
            if s.get("category") is not None:
                if not eq(str(s["category"]), logsource.category):
                    continue
                score += 1
            if score > best_score:
                best, best_score = s, score
        return best

    @staticmethod
    def _template(t, field):
        bare = field[11:] if field.lower().startswith("properties.") else field
        out = t.replace("{field}", field).replace("{bare}", bare)
        if "{bare_dynamic}" in out:
            if "." not in bare:
                return None
            head, rest = bare.split(".", 1)
            out = out.replace("{bare_dynamic}", head + "_dynamic." + rest)
        return out

    @staticmethod
    def path(src, field, shape):
        """The path spec for a field on a shape: a path, a list (first with a value) or {'union': [...]}."""
        field = field.replace("{}", "")
        for name, target in (src or {}).get("fields", {}).items():
            if name.lower() == field.lower():
                if isinstance(target, dict) and "union" not in target:
                    return target.get(shape, target.get("default", field))
                return target
        unmapped = (src or {}).get("unmapped")
        if unmapped and not field.lower().startswith("vigil."):
            templates = unmapped.get(shape, unmapped.get("default"))
            if templates:
                paths = []
                for t in templates:
                    p = FieldMap._template(t, field)
                    if p is not None and p.lower() not in [q.lower() for q in paths]:
                        paths.append(p)
                return paths or field
        return field

    @staticmethod
    def values(event, spec):
        if isinstance(spec, list):
            for p in spec:
                found = FieldMap.values(event, p)
                if found:
                    return found
            return []
        if isinstance(spec, dict):
            return [v for p in spec["union"] for v in FieldMap.values(event, p)]
        keyed = KEYED.match(spec)
        if keyed:  # list[key=name].value: entries of a name/value list (audit modifiedProperties)
            lst, key, name, val = keyed.groups()
            out = []
            for entry in FieldMap.values(event, lst):
                if isinstance(entry, dict) and any(str(k).lower() == name.lower() for k in lookup(entry, key.split("."))):
                    for v in lookup(entry, val.split(".")):
                        if isinstance(v, str) and v[:1] in ('"', "["):
                            try:
                                d = json.loads(v)
                                out += d if isinstance(d, list) else [d]
                                continue
                            except ValueError:
                                pass
                        out.append(v)
            return out
        parts = spec.split(".")
        if parts[0].lower() == "vigil":
            name = ".".join(parts[1:])
            if FieldMap.typed_from_raw and name == "outcome":
                return raw_outcome(event)
            raw = RAW_TYPED.get(name) if FieldMap.typed_from_raw else None
            if raw is None:
                return lookup(event["vigil"], parts[1:])
            for candidate in raw.get(event["shape"], []):
                found = lookup(event["record"], candidate.split("."))
                if found:
                    return found[:1]
            return []
        return lookup(event["record"], parts)


def rule_fields(rule):
    from sigma.rule import SigmaDetection, SigmaDetectionItem
    out = set()

    def walk(d):
        if isinstance(d, SigmaDetection):
            for i in d.detection_items:
                walk(i)
        elif isinstance(d, SigmaDetectionItem) and d.field:
            out.add(d.field)
            for v in d.value:  # fieldref
                if type(v).__name__ == "SigmaFieldReference":
                    out.add(v.field)
    for det in rule.detection.detections.values():
        walk(det)
    return sorted(out)


# ---- the two sides ------------------------------------------------------------------------------

def load_events(vigil, files):
    code, out, err = run([vigil, "events", *files])
    if code != 0 and not out:
        sys.exit(f"vigil events failed ({code}): {err[-2000:]}")
    events = []
    for line in out.splitlines():
        e = json.loads(line)
        v = e.pop("vigil")
        events.append({"id": v["id"], "kind": v.get("kind"), "shape": v.get("shape"), "source": v.get("source"),
                       "vigil": v, "record": e})
    return events


def vigil_side(vigil, files, rules_dirs, workdir):
    alerts = os.path.join(workdir, "alerts.jsonl")
    cmd = [vigil, "replay", *files, "--output", f"jsonl:{alerts}", "--state", os.path.join(workdir, "state.db"), "--quiet"]
    for d in rules_dirs:
        cmd += ["--rules", d]
    code, _, err = run(cmd)
    if not os.path.exists(alerts):
        sys.exit(f"vigil replay wrote no alerts file ({code}): {err[-2000:]}")
    out = {}
    for line in open(alerts, encoding="utf-8"):
        a = json.loads(line)
        if a.get("type") == "alert":
            out.setdefault(a["ruleId"], set()).update(a.get("eventIds", []))
    return out


def regexp(pattern, value):
    if value is None:
        return False
    return re.search(pattern, str(value)) is not None


def pysigma_side(rule_files, events, fmap, verbose):
    from sigma.collection import SigmaCollection
    from sigma.backends.sqlite import sqliteBackend
    backend = sqliteBackend(collate_nocase=True, fulltext_field="__fulltext")
    matches, skipped, notes = {}, {}, []
    db = sqlite3.connect(":memory:")
    db.create_function("REGEXP", 2, regexp, deterministic=True)
    for path in rule_files:
        try:
            coll = SigmaCollection.from_yaml(open(path, encoding="utf-8").read())
            rule = coll.rules[0]
            queries = backend.convert(coll)
        except Exception as e:  # pySigma's reason, e.g. unexpanded placeholders
            skipped[path] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
            continue
        rid = str(rule.id)
        src = fmap.source(rule.logsource)
        kinds = set(src.get("kinds", [])) if src else None
        fields = rule_fields(rule)
        cols = ["__id", "__fulltext"] + fields
        db.execute("DROP TABLE IF EXISTS logs")
        db.execute("CREATE TABLE logs (" + ", ".join('"%s" TEXT COLLATE NOCASE' % c.replace('"', '""') for c in cols) + ")")
        for ev in events:
            if kinds is not None and ev["kind"] not in kinds:
                continue
            cat_field = (src or {}).get("category_field")
            if cat_field and rule.logsource.category:
                if not any(str(v).lower() == rule.logsource.category.lower() for v in fmap.values(ev, cat_field)):
                    continue
            texts = []
            strings(ev["record"], texts)
            per_field = []
            for f in fields:
                vals = [scalar(v) for v in fmap.values(ev, fmap.path(src, f, ev["shape"]))]
                per_field.append(vals or [None])
            combos = list(itertools.product(*per_field))
            if len(combos) > 1:
                notes.append(f"{rid} {ev['id']}: {len(combos)} rows (multi-valued fields)")
            for combo in combos[:256]:
                db.execute("INSERT INTO logs VALUES (" + ",".join("?" * len(cols)) + ")",
                           [ev["id"], "\n".join(texts), *combo])
        hits = set()
        for q in queries:
            sql = q.replace("<TABLE_NAME>", "logs").replace("SELECT *", "SELECT DISTINCT __id", 1)
            for (k,) in db.execute(sql):
                hits.add(k)
        matches[rid] = (path, hits)
    return matches, skipped, notes


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vigil", default=os.path.join(ROOT, ".build", "debug", "vigil"))
    p.add_argument("--corpus", default=os.environ.get("VIGIL_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    p.add_argument("--rules", help="Sigma rule directories (default: CORPUS/rules/sigma/{rules,rules-threat-hunting})", action="append")
    p.add_argument("--fieldmap", default=os.path.join(ROOT, "detections", "fieldmap.yml"))
    p.add_argument("--typed-from-raw", action="store_true",
                   help="pySigma side reads Vigil's typed fields (vigil.operationName, vigil.result, …) from the raw record itself")
    p.add_argument("--no-placeholders", action="store_true", help="leave rules-placeholder out")
    p.add_argument("--report")
    p.add_argument("-v", "--verbose", action="store_true", help="list every match")
    args = p.parse_args()
    try:
        import sigma.backends.sqlite  # noqa: F401
    except ImportError:
        print("pySigma missing: pip install pysigma pysigma-backend-sqlite", file=sys.stderr)
        return 2
    rules_dirs = args.rules or [os.path.join(args.corpus, "rules", "sigma", d) for d in ("rules", "rules-threat-hunting")]
    FieldMap.typed_from_raw = args.typed_from_raw
    files = corpus_files(args.corpus)
    events = load_events(args.vigil, files)
    with tempfile.TemporaryDirectory(prefix="vigil-crosscheck-") as tmp:
        placeholder_dir = os.path.join(args.corpus, "rules", "sigma", "rules-placeholder")
        if not args.rules and not args.no_placeholders and os.path.isdir(placeholder_dir):
            rules_dirs.append(os.path.join(tmp, "rules-placeholder"))
            materialise_placeholders(placeholder_dir, rules_dirs[-1])
        # A --rules folder named rules-placeholder gets the same treatment.
        for i, d in enumerate(rules_dirs):
            if os.path.basename(os.path.normpath(d)) == "rules-placeholder" and not d.startswith(tmp):
                if args.no_placeholders:
                    continue
                rules_dirs[i] = os.path.join(tmp, f"rules-placeholder-{i}")
                materialise_placeholders(d, rules_dirs[i])
        rule_files = sorted(f for d in rules_dirs for f in glob.glob(os.path.join(d, "**", "*.yml"), recursive=True))
        vig = vigil_side(args.vigil, files, rules_dirs, tmp)
        ref, skipped, notes = pysigma_side(rule_files, events, FieldMap(args.fieldmap), args.verbose)

    lines = [f"record files: {len(files)}; events: {len(events)}",
             f"rules: {len(rule_files)}; converted by pySigma and compared: {len(ref)}; not converted: {len(skipped)}"]
    for f, why in sorted(skipped.items()):
        lines.append(f"  not converted: {os.path.relpath(f, args.corpus)}: {why}")
    n_ref = sum(len(h) for _, h in ref.values())
    n_vig = sum(len(vig.get(rid, ())) for rid in ref)
    lines.append(f"matches: pySigma {n_ref} ({sum(1 for _, h in ref.values() if h)} rules), "
                 f"vigil {n_vig} ({sum(1 for rid in ref if vig.get(rid))} rules)")
    if notes:
        lines.append(f"event/rule pairs with multi-valued fields (several rows): {len(notes)}")
    if args.verbose:
        lines += [f"  note: {n}" for n in notes]
    by_id = {e["id"]: e for e in events}
    diff = 0
    for rid, (path, hits) in sorted(ref.items(), key=lambda kv: kv[1][0]):
        mine = vig.get(rid, set())
        name = path if "rules-placeholder" in path else os.path.relpath(path, args.corpus)
        name = name[name.index("rules-placeholder"):] if "rules-placeholder" in name else name
        for k in sorted(hits - mine):
            lines.append(f"  MISSING in vigil: {name} ({rid}) {k} {by_id.get(k, {}).get('source', '')}"); diff += 1
        for k in sorted(mine - hits):
            lines.append(f"  EXTRA in vigil:   {name} ({rid}) {k} {by_id.get(k, {}).get('source', '')}"); diff += 1
        if args.verbose:
            for k in sorted(hits & mine):
                lines.append(f"  both: {name} {k} {by_id.get(k, {}).get('source', '')}")
    unknown = set(vig) - set(ref)
    if unknown:
        lines.append(f"vigil alerts for rules pySigma did not convert: {', '.join(sorted(unknown))}")
    lines.append("identical" if diff == 0 else f"{diff} difference(s)")
    text = "\n".join(lines)
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0 if diff == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
