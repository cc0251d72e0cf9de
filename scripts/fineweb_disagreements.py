"""Why Thresh and datatrove disagree, stage by stage, on scripts/bench-fineweb's input.

Every stage of FineWeb's recipe is compared on the documents both tools brought to it: kept by both, dropped by both,
dropped by Thresh only, dropped by datatrove only. Each one-sided drop gets the dropping tool's own reason and the
values behind it on each tool's text:
- reader: from the record itself (Thresh keeps HTTP status 200 responses whose Content-Type is HTML or text;
  datatrove 0.10.1's WarcReader keeps responses whose WARC-Identified-Payload-Type or, without one, libmagic's guess
  is HTML and that decode as UTF-8 or as cchardet's guess);
- url and the four text filters: Thresh's attrs.drop_reason (`thresh filter --annotate`) and datatrove's
  metadata.filter_reason (its exclusion writers); the values are the failing check's signal as `thresh filter
  --annotate` measures it on Thresh's text and on datatrove's (the filters agree on the same text, so a value that
  crosses the threshold on one text and not the other is the reason);
- extract: the text length the other tool's extractor gave;
- lang: each tool's label and score on its own text, and Thresh's model on datatrove's text;
- dedup: Thresh's survivor and Jaccard (dedup's removed.jsonl) and whether datatrove kept that survivor.
Then each document of one final corpus that the other lacks is traced to the first stage that lost it, with that
reason.

usage: python fineweb_disagreements.py CRAWL_DIR THRESH_STAGES DATATROVE_STAGES DETAILS_OUT
THRESH_STAGES holds scripts/bench-fineweb's Thresh files (url-annotated, extract, lang-annotated, lang,
same-text-thresh, datatrove-text-annotated, datatrove-text-lang, dedup/, final); DATATROVE_STAGES is
datatrove_fineweb.py --stages' stages/ folder. Prints JSON lines (the survivors after each stage, the drops per stage, the check on datatrove's text, then the
final attribution);
DETAILS_OUT gets one JSON line per one-sided drop.
"""
import collections
import glob
import gzip
import json
import os
import sys

STAGES = ["reader", "url", "extract", "lang", "gopher-repetition", "gopher-quality", "c4", "fineweb-quality", "dedup"]
TEXT_FILTERS = ["gopher-repetition", "gopher-quality", "c4", "fineweb-quality"]
# datatrove's reason strings whose value is a signal of another name in `thresh filter --annotate`'s attrs.
SIGNAL_OF_REASON = {
    "gopher_short_doc": "words", "gopher_long_doc": "words",
    "gopher_below_avg_threshold": "avg_word_length", "gopher_above_avg_threshold": "avg_word_length",
    "gopher_too_many_hashes": "hash_ratio", "gopher_too_many_ellipsis": "ellipsis_ratio",
    "gopher_too_many_bullets": "bullet_lines_ratio", "gopher_too_many_end_ellipsis": "end_ellipsis_lines_ratio",
    "gopher_below_alpha_threshold": "alpha_words_ratio", "gopher_enough_stop_words": "stop_words",
    "too_few_sentences": "sentences",
}
HTML_TYPES = ("text/html", "application/xhtml+xml")


def documents(paths):
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def counted(paths):
    return collections.Counter(d["id"] for d in documents(paths))


def by_id(paths, value):
    """id → value(document) (the copies of one archive give one id the same value)."""
    return {d["id"]: value(d) for d in documents(paths)}


def decodable_as(body, cchardet):
    """The charset datatrove's reader decodes a body with (UTF-8, else cchardet's guess), or None if it gives up."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    guess = cchardet.detect(body)["encoding"]
    if not guess or guess == "UTF-8":
        return None
    try:
        body.decode(guess)
        return guess
    except (UnicodeDecodeError, LookupError):
        return None


def records(crawl):
    """Every response record once per archive: id → (copies, facts)."""
    import cchardet
    import magic
    from warcio.archiveiterator import ArchiveIterator

    seen = {}
    for path in sorted(glob.glob(os.path.join(crawl, "*.warc*"))):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type != "response":
                    continue
                rid = record.rec_headers["WARC-Record-ID"]
                if rid in seen:
                    seen[rid]["copies"] += 1
                    continue
                http = record.http_headers
                content_type = (http.get_header("Content-Type") or "") if http else ""
                payload_type = record.rec_headers.get("WARC-Identified-Payload-Type")
                body = record.content_stream().read()
                sniffed = magic.from_buffer(body, mime=True) if payload_type is None else None
                decodes = decodable_as(body, cchardet)
                seen[rid] = {"copies": 1, "url": record.rec_headers.get("WARC-Target-URI"),
                             "status": http.get_statuscode() if http else None,
                             "content_type": content_type.split(";")[0].strip().lower(),
                             "payload_type": payload_type, "libmagic": sniffed, "decodes_as": decodes,
                             "bytes": len(body)}
    return seen


def thresh_reader_reason(r):
    if r["status"] != "200":
        return f"HTTP status {r['status']} (Thresh keeps 200)"
    if r["content_type"] and r["content_type"] not in HTML_TYPES + ("text/plain",):
        return f"Content-Type {r['content_type']}"
    return "empty after decoding"


def datatrove_reader_reason(r):
    mime = r["payload_type"] or r["libmagic"]
    source = "WARC-Identified-Payload-Type" if r["payload_type"] else "libmagic"
    if mime not in HTML_TYPES:
        return f"{source} says {mime} (HTTP Content-Type {r['content_type'] or 'none'})"
    if r["decodes_as"] is None:
        return "not UTF-8 and cchardet's guess fails"
    return "other"


def main():
    crawl, thresh_dir, datatrove_dir, details_out = sys.argv[1:5]
    t = lambda name: [os.path.join(thresh_dir, name + ".jsonl")]
    d = lambda name: sorted(glob.glob(os.path.join(datatrove_dir, name, "*.jsonl*")))

    recs = records(crawl)
    all_records = collections.Counter({rid: r["copies"] for rid, r in recs.items()})
    # Survivors of each stage, as multisets of ids (the bench's four archive copies share ids).
    kept = {"thresh": {}, "datatrove": {}}
    kept["thresh"]["reader"] = counted(t("url-annotated"))
    kept["datatrove"]["reader"] = counted(d("url") + d("url-dropped"))
    for stage in ["url", "extract", "lang"] + TEXT_FILTERS:
        kept["thresh"][stage] = counted(t(stage))
        kept["datatrove"][stage] = counted(d(stage))
    kept["thresh"]["dedup"] = counted(t("final"))
    kept["datatrove"]["dedup"] = counted(d("final"))

    # The values behind each decision.
    thresh_url = by_id(t("url-annotated"), lambda x: x.get("attrs", {}).get("drop_reason"))
    datatrove_url = by_id(d("url-dropped"), lambda x: x["metadata"].get("filter_reason"))
    thresh_chars = by_id(t("extract"), lambda x: len(x["text"]))
    datatrove_chars = by_id(d("extract"), lambda x: len(x["text"]))
    lang_of = lambda a: (a.get("lang"), round(a.get("lang_score", 0), 4))
    thresh_lang = by_id(t("lang-annotated"), lambda x: lang_of(x["attrs"]))
    thresh_lang_on_datatrove_text = by_id(t("datatrove-text-lang"), lambda x: lang_of(x["attrs"]))
    datatrove_lang = by_id(d("lang") + d("lang-dropped"),
                           lambda x: (x["metadata"].get("language"), round(x["metadata"].get("language_score", 0), 4)))
    signals = lambda x: {k: v for k, v in x["attrs"].items() if isinstance(v, dict)} | {
        "drop_rule": x["attrs"].get("drop_rule"), "drop_reason": x["attrs"].get("drop_reason")}
    thresh_signals = by_id(t("same-text-thresh"), signals)
    datatrove_signals = by_id(t("datatrove-text-annotated"), signals)
    datatrove_reason = {stage: by_id(d(stage + "-dropped"), lambda x: x["metadata"].get("filter_reason"))
                        for stage in TEXT_FILTERS}
    # Thresh's removals as near-duplicates of another document (removed copies of one id are not that).
    removed = {x["id"]: (x["survivor"], round(x["jaccard"], 4))
               for x in documents([os.path.join(thresh_dir, "dedup", "removed.jsonl")]) if x["survivor"] != x["id"]}
    survivors_of_others = {survivor for survivor, _ in removed.values()}

    def value(signal_sets, doc, stage, reason):
        rule = signal_sets.get(doc, {}).get(stage.replace("-", "_"), {})
        key = SIGNAL_OF_REASON.get(reason, reason)
        return rule.get(key) if key in rule else None

    def why(tool, stage, doc):
        """The dropping tool's reason and the values on both texts."""
        if stage == "reader":
            r = recs[doc]
            return (thresh_reader_reason(r) if tool == "thresh" else datatrove_reader_reason(r)), {
                k: r[k] for k in ("status", "content_type", "payload_type", "libmagic", "decodes_as")}
        if stage == "url":
            return (thresh_url.get(doc) if tool == "thresh" else datatrove_url.get(doc)) or "url", {}
        if stage == "extract":
            other = datatrove_chars.get(doc) if tool == "thresh" else thresh_chars.get(doc)
            return "no text extracted", {"other_tool_text_chars": other}
        if stage == "lang":
            return "not en with score ≥ 0.65", {"thresh_on_thresh_text": thresh_lang.get(doc),
                                                 "datatrove_on_datatrove_text": datatrove_lang.get(doc),
                                                 "thresh_on_datatrove_text": thresh_lang_on_datatrove_text.get(doc)}
        if stage in TEXT_FILTERS:
            reason = (thresh_signals[doc]["drop_reason"] if tool == "thresh"
                      else datatrove_reason[stage].get(doc)) or "?"
            return f"{stage}:{reason}", {"on_thresh_text": value(thresh_signals, doc, stage, reason),
                                         "on_datatrove_text": value(datatrove_signals, doc, stage, reason)}
        # dedup
        if tool == "thresh":
            survivor, jaccard = removed.get(doc, (None, None))
            if kept["datatrove"]["fineweb-quality"][survivor] == 0:
                kind = "survivor not in datatrove's dedup input"
            elif kept["datatrove"]["dedup"][survivor] == 0:
                kind = "a different survivor of one cluster"
            else:
                kind = "near-duplicate only Thresh found"
            return f"near-duplicate ({kind})", {"survivor": survivor, "jaccard": jaccard}
        return ("near-duplicate (a different survivor of one cluster)" if doc in survivors_of_others
                else "near-duplicate only datatrove found"), {}

    # Survivors after each stage, whoever brought them there (the bench's first table).
    for stage in STAGES[1:]:
        t, d = kept["thresh"][stage], kept["datatrove"][stage]
        both = sum((t & d).values())
        print(json.dumps({"stage": stage, "thresh_kept": sum(t.values()), "datatrove_kept": sum(d.values()),
                          "both": both, "thresh_only": sum(t.values()) - both, "datatrove_only": sum(d.values()) - both}))

    drop_of = {}  # (tool, id) → (stage, reason, values): where each tool first dropped a document both had
    with open(details_out, "w", encoding="utf-8") as details:
        previous = {"thresh": all_records, "datatrove": all_records}
        for stage in STAGES:
            row = collections.Counter()
            reasons = {"thresh": collections.Counter(), "datatrove": collections.Counter()}
            entered = previous["thresh"] & previous["datatrove"]
            for doc, n in entered.items():
                tk = min(n, kept["thresh"][stage][doc])
                dk = min(n, kept["datatrove"][stage][doc])
                both = min(tk, dk)
                row["entered_by_both"] += n
                row["kept_by_both"] += both
                row["dropped_by_both"] += n - max(tk, dk)
                for tool, lost in (("thresh", dk - both), ("datatrove", tk - both)):
                    if lost == 0:
                        continue
                    reason, values = why(tool, stage, doc)
                    row[f"dropped_by_{tool}_only"] += lost
                    reasons[tool][reason] += lost
                    drop_of.setdefault((tool, doc), (stage, reason, values))
                    details.write(json.dumps({"stage": stage, "dropped_by": tool, "id": doc, "url": recs[doc]["url"],
                                              "copies": lost, "reason": reason, "values": values},
                                             ensure_ascii=False) + "\n")
            print(json.dumps({"stage": stage, **row,
                              "thresh_only_drops": dict(reasons["thresh"].most_common()),
                              "datatrove_only_drops": dict(reasons["datatrove"].most_common())}, ensure_ascii=False))
            previous = {tool: kept[tool][stage] for tool in kept}

    # The reasons above rest on Thresh's model and filters deciding as datatrove's on the same text: checked on
    # datatrove's own text, every document its language filter and its four text filters saw.
    lang_agree = sum(1 for doc, (label, score) in datatrove_lang.items()
                     if thresh_lang_on_datatrove_text.get(doc, (None, None))[0] == label
                     and abs(thresh_lang_on_datatrove_text[doc][1] - score) <= 1e-4)
    datatrove_verdict = {}
    for stage in TEXT_FILTERS:
        for doc, reason in datatrove_reason[stage].items():
            datatrove_verdict.setdefault(doc, (stage, reason))
    filters_agree = sum(1 for doc, x in datatrove_signals.items()
                        if datatrove_verdict.get(doc, (None, None)) == (x["drop_rule"], x["drop_reason"]))
    print(json.dumps({"thresh_on_datatrove_text": {
        "lang_documents": len(datatrove_lang), "lang_same_label_and_score": lang_agree,
        "filter_documents": len(datatrove_signals), "filters_same_decision_and_reason": filters_agree}}))

    # Each final document one tool kept and the other did not: where and why the other lost it.
    for keeper, other in (("thresh", "datatrove"), ("datatrove", "thresh")):
        lost = collections.Counter()
        for doc, n in (kept[keeper]["dedup"] - kept[other]["dedup"]).items():
            stage, reason, _ = drop_of.get((other, doc), ("not traced", "?", None))
            lost[f"{stage}: {reason}"] += n
        print(json.dumps({f"final_{keeper}_only_lost_by_{other}": dict(lost.most_common())}, ensure_ascii=False))


if __name__ == "__main__":
    main()
