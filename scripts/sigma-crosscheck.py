#!/usr/bin/env python3
"""Cross-check Vigil's Sigma matches against pySigma (independent reference).

Installs nothing itself. Needs:
    pip install pysigma pysigma-backend-sqlite

What it does:
  1. converts every Sigma rule under RULES (default ../shared/corpus/rules/sigma) to SQLite SQL with
     pySigma's sqlite backend (rules pySigma cannot convert are listed with pySigma's reason);
  2. loads the corpus records (JSON, JSON lines, {"records":[...]}, arrays; CSV files with a header)
     into one SQLite table, flattened: nested keys become dotted columns (`properties.message`),
     JSON held in strings is decoded and flattened too, arrays become their JSON text;
  3. runs each query and records (rule id, record key) pairs;
  4. reads Vigil's alerts (JSON lines, `{"type":"alert", "rule":{"id"}, "source": "file:line [record N]"}`,
     as written by `vigil replay --output jsonl:-`) and compares the two sets per rule.

Usage:
    scripts/sigma-crosscheck.py [--rules DIR] [--records DIR] [--vigil-alerts FILE.jsonl] [--report FILE]

Without --vigil-alerts it prints pySigma's side only (useful to see what the reference matches).
Exit status: 0 when the sets are identical (or no Vigil input was given), 1 otherwise.
"""
import argparse, csv, glob, json, os, sqlite3, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def flatten(value, prefix, out):
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "[") and prefix:
            try:
                inner = json.loads(s)
                flatten(inner, prefix, out)
                out.setdefault(prefix, value)
                return
            except ValueError:
                pass
        out[prefix] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = value


def read_records(path):
    """Yields (key, record) with key = 'file:line [record N]' in Vigil's SourcePosition style."""
    rel = path
    if path.endswith(".csv"):
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            for i, row in enumerate(csv.DictReader(f)):
                yield f"{rel}:{i + 2}", row
        return
    text = open(path, encoding="utf-8", errors="replace").read()
    try:
        doc = json.loads(text)
        items = doc.get("records") if isinstance(doc, dict) and isinstance(doc.get("records"), list) else doc
        if isinstance(items, list):
            for i, r in enumerate(items):
                if isinstance(r, dict):
                    yield f"{rel}:1 [record {i}]", r
        elif isinstance(items, dict):
            yield f"{rel}:1", items
        return
    except ValueError:
        pass
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict):
            yield f"{rel}:{n}", r


def load_table(records_dir):
    db = sqlite3.connect(":memory:")
    rows, columns = [], {}
    for path in sorted(glob.glob(os.path.join(records_dir, "**", "*"), recursive=True)):
        if os.path.isdir(path) or "/rules/" in path or not path.endswith((".json", ".jsonl", ".csv")):
            continue
        for key, rec in read_records(path):
            flat = {}
            flatten(rec, "", flat)
            rows.append((key, flat))
            for c in flat:
                columns.setdefault(c.lower(), c)
    cols = ["__key"] + sorted(columns.values(), key=str.lower)
    db.execute("CREATE TABLE logs (" + ", ".join('"%s"' % c.replace('"', '""') for c in cols) + ")")
    for key, flat in rows:
        lowered = {k.lower(): v for k, v in flat.items()}
        db.execute("INSERT INTO logs VALUES (" + ",".join("?" * len(cols)) + ")",
                   [key] + [lowered.get(c.lower()) for c in cols[1:]])
    return db, len(rows), {c.lower() for c in cols}


def pysigma_matches(rules_dir, db, known_columns):
    from sigma.collection import SigmaCollection
    from sigma.backends.sqlite import sqliteBackend
    backend = sqliteBackend()
    matches, skipped = {}, {}
    for path in sorted(glob.glob(os.path.join(rules_dir, "**", "*.yml"), recursive=True)):
        text = open(path, encoding="utf-8").read()
        try:
            coll = SigmaCollection.from_yaml(text)
            rule = coll.rules[0]
            queries = backend.convert(coll)
        except Exception as e:  # pySigma's reason, e.g. unexpanded placeholders
            skipped[os.path.relpath(path, rules_dir)] = f"{type(e).__name__}: {e}"
            continue
        rid = str(rule.id)
        hits = set()
        for q in queries:
            sql = q.replace("<TABLE_NAME>", "logs").replace("SELECT *", "SELECT __key", 1)
            try:
                for (k,) in db.execute(sql):
                    hits.add(k)
            except sqlite3.OperationalError as e:
                # A column no record has: nothing can match it.
                if "no such column" not in str(e):
                    skipped[os.path.relpath(path, rules_dir)] = f"sqlite: {e}"
        matches[rid] = hits
    return matches, skipped


def vigil_matches(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line:
            continue
        a = json.loads(line)
        if a.get("type") != "alert":
            continue
        out.setdefault(a["rule"]["id"], set()).add(a.get("source", ""))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", default=os.path.join(ROOT, "..", "shared", "corpus", "rules", "sigma"))
    p.add_argument("--records", default=os.path.join(ROOT, "..", "shared", "corpus"))
    p.add_argument("--vigil-alerts")
    p.add_argument("--report")
    args = p.parse_args()
    try:
        import sigma.backends.sqlite  # noqa: F401
    except ImportError:
        print("pySigma missing: pip install pysigma pysigma-backend-sqlite", file=sys.stderr)
        return 2
    db, n, cols = load_table(args.records)
    ref, skipped = pysigma_matches(args.rules, db, cols)
    lines = [f"records: {n}", f"rules converted by pySigma: {len(ref)}, not converted: {len(skipped)}"]
    for f, why in sorted(skipped.items()):
        lines.append(f"  not converted: {f}: {why.splitlines()[0][:160]}")
    lines.append(f"rules with reference matches: {sum(1 for v in ref.values() if v)}; total matches: {sum(len(v) for v in ref.values())}")
    for rid, hits in sorted(ref.items()):
        for k in sorted(hits):
            lines.append(f"  ref {rid} {k}")
    status = 0
    if args.vigil_alerts:
        vig = vigil_matches(args.vigil_alerts)
        diff = 0
        for rid in sorted(set(ref) | set(vig)):
            if rid not in ref:
                continue  # pySigma did not convert it; nothing to compare
            only_ref, only_vig = ref[rid] - vig.get(rid, set()), vig.get(rid, set()) - ref[rid]
            for k in sorted(only_ref):
                lines.append(f"  MISSING in vigil: {rid} {k}"); diff += 1
            for k in sorted(only_vig):
                lines.append(f"  EXTRA in vigil:   {rid} {k}"); diff += 1
        lines.append("identical" if diff == 0 else f"{diff} difference(s)")
        status = 0 if diff == 0 else 1
    text = "\n".join(lines)
    print(text)
    if args.report:
        open(args.report, "w").write(text + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
