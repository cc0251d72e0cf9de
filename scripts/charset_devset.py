#!/usr/bin/env python3
"""The charset dev set and its scoring, for scripts/bench-charset.

build EXTRACTION_DIR OUT_DIR: pages of ../shared/data/extraction (UTF-8 HTML) whose text needs a legacy encoding
    (at least 50 non-ASCII letters), each transcoded into the encodings its script is written in on the web, with
    every charset declaration removed (<meta charset>, http-equiv) and none sent in HTTP; written as one WARC
    (OUT_DIR/devset.warc, plain) and the truth (OUT_DIR/truth.jsonl: record id, encoding, the page as text).
    Characters an encoding lacks become numeric character references (the truth is the transcoded page); a page
    whose non-ASCII letters the encoding mostly (over 10%) lacks is left out of it.
    Pages of the sets that are not UTF-8 are added as they are ("native"), their own declaration being the truth.
score OUT_DIR NAME=THRESH_JSONL…: per encoding, pages decoded to exactly their text by Thresh (`thresh warc` output,
    one per detector), by resiliparse's detect_encoding and by cChardet, in the same run; a table and JSON lines."""
import codecs, collections, gzip, hashlib, json, os, re, sys, unicodedata

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


DECLARED = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?([A-Za-z0-9_:.-]+)""", re.I)


def native(raw, path, source, records, truth):
    """A page served in a legacy encoding (not UTF-8): its own declaration is the truth, then removed."""
    m = DECLARED.search(raw[:4096])
    if not m:
        return
    try:
        encoding = codecs.lookup(m.group(1).decode("ascii")).name
        body = META.sub(b"", raw)
        text = body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return
    if encoding in ("utf-8", "ascii") or script_of(re.sub(r"<[^>]*>", " ", text)) is None:
        return
    rid = "<urn:devset:%s>" % hashlib.sha1((path + "native").encode()).hexdigest()
    records.append((rid, body))
    truth.append({"id": rid, "encoding": encoding + " (native)", "script": script_of(text), "page": os.path.relpath(path, source), "text": text})


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
                native(raw, path, source, records, truth)
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


def score(out, runs):
    """runs: NAME=JSONL pairs (Thresh's output with each detector)."""
    import cchardet
    from resiliparse.parse.encoding import detect_encoding
    truth = [json.loads(l) for l in open(os.path.join(out, "truth.jsonl"))]
    texts = {}
    for run in runs:
        name, path = run.split("=", 1)
        texts[name] = {json.loads(l)["id"]: json.loads(l)["text"] for l in open(path)}
    tools = list(texts) + ["resiliparse", "cchardet"]
    rows = collections.defaultdict(collections.Counter)
    def decoded(data, name):
        try:
            return data.decode(name, errors="replace") if name else None
        except LookupError:
            return None
    for t in truth:
        encoding = t["encoding"].split(" ")[0]
        data = t["text"].encode(encoding)
        r = rows[t["encoding"]]
        r["pages"] += 1
        for name in texts:
            ok = texts[name].get(t["id"]) == t["text"]
            r[name] += ok
            tune = int(hashlib.sha1(t["page"].encode()).hexdigest()[0], 16) < 8
            if not ok and tune and os.environ.get("SHOW_MISSES"):
                print("miss", name, t["encoding"], t["page"], file=sys.stderr)
        r["resiliparse"] += decoded(data, detect_encoding(data)) == t["text"]
        r["cchardet"] += decoded(data, cchardet.detect(data)["encoding"]) == t["text"]
    # The halves by a hash of the page's file name: rules were looked for on the "tune" half's misses only; the
    # "report" half is the one to quote.
    halves = {"tune": collections.Counter(), "report": collections.Counter()}
    for t in truth:
        half = "tune" if int(hashlib.sha1(t["page"].encode()).hexdigest()[0], 16) < 8 else "report"
        halves[half]["pages"] += 1
        encoding = t["encoding"].split(" ")[0]
        data = t["text"].encode(encoding)
        for name in texts:
            halves[half][name] += texts[name].get(t["id"]) == t["text"]
        halves[half]["resiliparse"] += decoded(data, detect_encoding(data)) == t["text"]
        halves[half]["cchardet"] += decoded(data, cchardet.detect(data)["encoding"]) == t["text"]
    total = collections.Counter()
    print("%-26s %6s" % ("encoding", "pages") + "".join(" %12s" % name for name in tools))
    for enc in sorted(rows):
        r = rows[enc]
        total.update(r)
        print("%-26s %6d" % (enc, r["pages"]) + "".join(" %12d" % r[name] for name in tools))
    print("%-26s %6d" % ("all", total["pages"]) + "".join(" %12d" % total[name] for name in tools))
    for half in ("tune", "report"):
        h = halves[half]
        print("%-26s %6d" % ("half: " + half, h["pages"]) + "".join(" %12d" % h[name] for name in tools))
    for enc in sorted(rows):
        print(json.dumps(dict(encoding=enc, **rows[enc])))


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        build(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["score"]:
        score(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
