#!/usr/bin/env python3
"""Generates Tests/Fixtures/bad-inputs/: one file per kind of bad input, each bad record sandwiched
between good Activity Log records, plus manifest.json saying what a reader must report.

usage: scripts/gen-bad-inputs.py [OUT_DIR]            (default Tests/Fixtures/bad-inputs)
       scripts/gen-bad-inputs.py --huge-line FILE [MB] (writes good + one MB-long line + good; test time only)

Manifest entries: {"file", "good": records that must come out, "codes": diagnostic codes expected
(in order), "what"}. Every diagnostic must name the file and a line or byte offset. The files are
deterministic (fixed seed), so regenerating gives the same bytes.
"""
import gzip, io, json, os, random, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUB = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"


def good(n):
    rid = "/SUBSCRIPTIONS/%s/RESOURCEGROUPS/RG-BAD/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/STGOOD%02d" % (SUB.upper(), n)
    return json.dumps({
        "time": "2026-11-20T10:%02d:00.0000000Z" % n, "resourceId": rid,
        "operationName": "MICROSOFT.STORAGE/STORAGEACCOUNTS/READ", "category": "Administrative",
        "resultType": "Success", "callerIpAddress": "198.51.100.%d" % (n + 1),
        "correlationId": "00000000-0000-4000-8000-%012d" % n,
        "identity": {"claims": {"appid": "11111111-1111-4111-8111-111111111111"}},
        "level": "Information", "properties": {"statusCode": "OK"}}, separators=(",", ":")).encode()


def gz(data, mtime=0):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=mtime) as f:
        f.write(data)
    return buf.getvalue()


def sandwich(bad):
    return good(1) + b"\n" + bad + b"\n" + good(2) + b"\n"


def cases():
    rnd = random.Random(20261129)
    binary = bytes(rnd.randrange(256) for _ in range(512)) + b"\x00" * 16
    lines = b"".join(good(i) + b"\n" for i in range(40))
    gzipped = gz(lines)
    corrupt = bytearray(gzipped)
    for k in range(len(corrupt) // 2, len(corrupt) // 2 + 24):
        corrupt[k] ^= 0xA5
    yield "invalid-json.json", sandwich(b'{"operationName":"x",,"a":1}'), "a record that is not JSON"
    yield "invalid-utf8.json", sandwich(b'{"operationName":"\xc3\x28\xff\xfe"}'), "invalid UTF-8 inside a string"
    yield "invalid-utf8-key.json", sandwich(b'{"\xed\xa0\x80":1}'), "an encoded surrogate (invalid UTF-8) as a key"
    yield "lone-surrogate-escape.json", sandwich(b'{"s":"\\ud800x"}'), "a lone surrogate escape"
    yield "control-char-in-string.json", sandwich(b'{"s":"a\x01b"}'), "a raw control character inside a string"
    yield "nul-in-line.json", sandwich(b'{"s":"a"}\x00\x00\x00'), "NUL bytes after a record"
    yield "binary-line.json", sandwich(binary.replace(b"\n", b" ")), "binary bytes as one line"
    yield "unterminated-at-end.json", good(1) + b"\n" + good(2) + b'\n{"operationName": "abc', "a record cut at end of file"
    yield "deep-nesting-arrays.json", sandwich(b"[" * 20000 + b"]" * 20000), "arrays nested 20000 deep"
    yield "deep-nesting-objects.json", sandwich(b'{"a":' * 5000 + b"1" + b"}" * 5000), "objects nested 5000 deep"
    yield "deep-nesting-unclosed.json", sandwich(b"[" * 20000), "20000 open brackets, never closed"
    yield "huge-numbers.json", sandwich(b'{"n":1e999999,"m":-1e-999999}'), "numbers out of double range"
    yield "huge-integer.json", sandwich(b'{"durationMs":123456789012345678901234567890123456789}'), "an integer past 64 bits"
    yield "long-number.json", sandwich(b'{"n":' + b"9" * 10000 + b"}"), "a 10000-digit number"
    yield "duplicate-keys.json", sandwich(b'{"operationName":"A","operationName":"B","time":"x","time":"y"}'), "duplicate keys (valid JSON, no known shape)"
    yield "wrong-schema.json", good(1) + b'\n{"foo":"bar"}\n[1,2,3]\n"just a string"\n42\nnull\n' + good(2) + b"\n", "valid JSON of no known shape"
    yield "wrong-types.json", sandwich(b'{"time":12,"resourceId":[],"operationName":{},"category":null}'), "known keys with the wrong types"
    yield "envelope-bad-element.json", b'{"records":[' + good(1) + b',{"a":,},' + good(2) + b"]}\n", "a bad element inside a records envelope"
    yield "empty.json", b"", "an empty file"
    yield "whitespace.json", b"  \n\t\n\r\n   \n", "whitespace only"
    yield "binary.bin", binary, "binary data"
    yield "truncated.json.gz", gzipped[: len(gzipped) * 2 // 3], "gzip cut at two thirds"
    yield "truncated-header.json.gz", gzipped[:6], "gzip cut inside its header"
    yield "corrupt.json.gz", bytes(corrupt), "gzip with 24 flipped bytes in the middle"
    yield "gzip-then-garbage.json.gz", gz(good(1) + b"\n" + good(2) + b"\n") + b"this is not gzip\n", "garbage after a gzip member"
    yield "gzip-of-garbage.json.gz", gz(good(1) + b"\n" + binary.replace(b"\n", b" ") + b"\n" + good(2) + b"\n"), "a bad line inside gzip"
    yield "csv-bad-row.csv", b"time,operationName,category\n2026-11-20T10:00:00Z,a,Administrative\n1,2,3,4,5\n\"unclosed,2\n", "CSV rows that do not fit the header"


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--huge-line":
        mb = int(sys.argv[3]) if len(sys.argv) > 3 else 100
        with open(sys.argv[2], "wb") as f:
            f.write(good(1) + b'\n{"s":"')
            chunk = b"x" * (1 << 20)
            for _ in range(mb):
                f.write(chunk)
            f.write(b'"}\n' + good(2) + b"\n")
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "bad-inputs")
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name, data, what in cases():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        manifest.append({"file": name, "what": what})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"about": "Generated by scripts/gen-bad-inputs.py; expectations live in BadInputCorpusTests.swift.",
                   "files": manifest}, f, indent=1)
        f.write("\n")
    print("%d files in %s" % (len(manifest), out))


if __name__ == "__main__":
    main()
