#!/usr/bin/env python3
"""The charset dev set and its scoring, for scripts/bench-charset.

build EXTRACTION_DIR OUT_DIR: pages of ../shared/data/extraction (UTF-8 HTML) whose text needs a legacy encoding
    (at least 50 non-ASCII letters), each transcoded into the encodings its script is written in on the web, with
    every charset declaration removed (<meta charset>, http-equiv) and none sent in HTTP; written as one WARC
    (OUT_DIR/devset.warc, plain) and the truth (OUT_DIR/truth.jsonl: record id, encoding, the page as text).
    Characters an encoding lacks become numeric character references (the truth is the transcoded page); a page
    whose non-ASCII letters the encoding mostly (over 10%) lacks is left out of it.
score OUT_DIR THRESH_JSONL: per encoding, pages decoded to exactly their text by Thresh (`thresh warc` output), by
    resiliparse's detect_encoding and by cChardet, in the same run; prints a table and JSON lines."""
import collections, gzip, hashlib, json, os, re, sys, unicodedata

# Encodings per script, as pages in those languages are served without a declaration.
TARGETS = {
    "latin-west": ["windows-1252", "iso-8859-15"],
    "latin-central": ["iso-8859-2", "windows-1250"],
    "cyrillic": ["windows-1251", "koi8-r"],
    "greek": ["windows-1253", "iso-8859-7"],
    "arabic": ["windows-1256"],
    "han": ["gb18030", "big5"],
    "japanese": ["shift_jis", "euc-jp", "iso-2022-jp"],
    "hangul": ["euc-kr"],
}
CENTRAL = set("ąćęłńśźżĄĆĘŁŃŚŹŻčďěňřšťůžČĎĚŇŘŠŤŮŽőűŐŰ")
META = re.compile(rb"""<meta[^>]*(charset|http-equiv\s*=\s*["']?content-type)[^>]*>""", re.I)


def script_of(text):
    counts = collections.Counter()
    for ch in text:
        if ord(ch) < 128 or not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if ch in CENTRAL: counts["latin-central"] += 1
        elif name.startswith("LATIN"): counts["latin-west"] += 1
        elif name.startswith(("HIRAGANA", "KATAKANA")): counts["japanese"] += 1
        elif name.startswith("CJK"): counts["han"] += 1
        elif name.startswith("HANGUL"): counts["hangul"] += 1
        elif name.startswith("CYRILLIC"): counts["cyrillic"] += 1
        elif name.startswith("GREEK"): counts["greek"] += 1
        elif name.startswith("ARABIC"): counts["arabic"] += 1
    if sum(counts.values()) < 50:
        return None
    if counts["japanese"] > 20:
        return "japanese"
    if counts["latin-central"] >= 10:
        return "latin-central"
    return counts.most_common(1)[0][0]


def build(source, out):
    os.makedirs(out, exist_ok=True)
    records, truth = [], []
    for root, _, files in sorted(os.walk(source)):
        for f in sorted(files):
            if not f.endswith((".html", ".html.gz", ".htm")):
                continue
            path = os.path.join(root, f)
            raw = gzip.open(path).read() if f.endswith(".gz") else open(path, "rb").read()
            try:
                page = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            script = script_of(re.sub(r"<[^>]*>", " ", page))
            if script is None:
                continue
            body = META.sub(b"", page.encode("utf-8")).decode("utf-8")
            letters = [ch for ch in body if ord(ch) >= 128 and ch.isalpha()]
            for encoding in TARGETS[script]:
                # Characters outside the encoding become numeric references, as pages in it write them; a page
                # whose letters the encoding mostly lacks is not in it.
                representable = sum(1 for ch in letters if ch.encode(encoding, errors="ignore"))
                if representable < 0.9 * len(letters):
                    continue
                encoded = body.encode(encoding, errors="xmlcharrefreplace")
                text = encoded.decode(encoding)
                rid = "<urn:devset:%s>" % hashlib.sha1((path + encoding).encode()).hexdigest()
                records.append((rid, encoded))
                truth.append({"id": rid, "encoding": encoding, "script": script, "page": os.path.relpath(path, source), "text": text})
    with open(os.path.join(out, "devset.warc"), "wb") as w:
        for rid, encoded in records:
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + encoded
            head = ("WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: %s\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
                    "WARC-Target-URI: https://devset.invalid/%s\r\nContent-Type: application/http; msgtype=response\r\n"
                    "Content-Length: %d\r\n\r\n" % (rid, rid[12:-1], len(http))).encode()
            w.write(head + http + b"\r\n\r\n")
    with open(os.path.join(out, "truth.jsonl"), "w") as t:
        for row in truth:
            t.write(json.dumps(row, ensure_ascii=False) + "\n")
    print("dev set: %d pages in %d encodings" % (len(truth), len({r['encoding'] for r in truth})), file=sys.stderr)


def score(out, thresh_jsonl):
    import cchardet
    from resiliparse.parse.encoding import detect_encoding
    truth = [json.loads(l) for l in open(os.path.join(out, "truth.jsonl"))]
    thresh = {}
    for line in open(thresh_jsonl):
        d = json.loads(line)
        thresh[d["id"]] = d["text"]
    rows = collections.defaultdict(lambda: collections.Counter())
    def decoded(data, name):
        try:
            return data.decode(name, errors="replace") if name else None
        except LookupError:
            return None
    for t in truth:
        data = t["text"].encode(t["encoding"])
        r = rows[t["encoding"]]
        r["pages"] += 1
        r["thresh"] += thresh.get(t["id"]) == t["text"]
        if thresh.get(t["id"]) != t["text"] and os.environ.get("SHOW_MISSES"):
            print("miss", t["encoding"], t["page"], file=sys.stderr)
        r["resiliparse"] += decoded(data, detect_encoding(data)) == t["text"]
        r["cchardet"] += decoded(data, cchardet.detect(data)["encoding"]) == t["text"]
    total = collections.Counter()
    print("%-14s %6s %8s %12s %9s" % ("encoding", "pages", "thresh", "resiliparse", "cchardet"))
    for enc in sorted(rows):
        r = rows[enc]
        total.update(r)
        print("%-14s %6d %8d %12d %9d" % (enc, r["pages"], r["thresh"], r["resiliparse"], r["cchardet"]))
    print("%-14s %6d %8d %12d %9d" % ("all", total["pages"], total["thresh"], total["resiliparse"], total["cchardet"]))
    for enc in sorted(rows):
        print(json.dumps(dict(encoding=enc, **rows[enc])))


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        build(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["score"]:
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
