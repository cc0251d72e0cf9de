#!/usr/bin/env python3
"""datatrove 0.10.1's filters on a JSONL corpus, for scripts/bench-filters: each rule alone and the chain, with the
first failing reason per document, C4's edited text, and the seconds each took (one process, one core).
usage: filters_reference.py DOCS.jsonl OUT.jsonl RULES [URL_ASSETS_DIR PSL_FILE]
THRESH_C4_NO_TERMINAL_PUNCT=1 runs C4 as FineWeb does (filter_no_terminal_punct=False).
The chain is every rule but url, in order. OUT has one line per (rule, document): {"rule", "id", "reason", "text" (c4 and the chain only)}; the timings go
to stderr as JSON."""
import json, os, sys, time

docs_path, out_path, rules = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)

def make(rule):
    if rule == 'gopher-quality': return GopherQualityFilter()
    if rule == 'gopher-repetition': return GopherRepetitionFilter()
    if rule == 'c4': return C4QualityFilter(filter_no_terminal_punct=os.environ.get('THRESH_C4_NO_TERMINAL_PUNCT') != '1')
    if rule == 'fineweb-quality': return FineWebQualityFilter()
    if rule == 'url':
        from datatrove.pipeline.filters import URLFilter
        from tldextract import TLDExtract
        assets, psl = sys.argv[4], sys.argv[5]
        f = URLFilter(use_integrated_lists=False,
                      extra_domains=open(os.path.join(assets, 'domains')),
                      extra_urls=open(os.path.join(assets, 'urls')),
                      banned_words=open(os.path.join(assets, 'banned_words.txt')),
                      banned_subwords=open(os.path.join(assets, 'banned_subwords.txt')),
                      soft_banned_words=open(os.path.join(assets, 'soft_banned_words.txt')))
        # The same suffix list as Thresh reads (no network here), ICANN section only as tldextract's default.
        f.tldextractor = TLDExtract(suffix_list_urls=('file://' + psl,), cache_dir=None, fallback_to_snapshot=False)
        f.banned_subwords_automaton.make_automaton()
        return f
    raise SystemExit('unknown rule ' + rule)

docs = [json.loads(l) for l in open(docs_path, encoding='utf-8')]
timings = {}
with open(out_path, 'w', encoding='utf-8') as out:
    for name in rules + ['chain']:
        # The chain is the text rules in the order given (the url rule runs alone, on documents with a URL).
        chain = [(r, make(r)) for r in ([r for r in rules if r != 'url'] if name == 'chain' else [name])]
        started = time.process_time()
        results = []
        for d in docs:
            if any(r == 'url' for r, _ in chain) and not d.get('url'):
                continue
            doc = Document(text=d['text'], id=str(d['id']), metadata={'url': d.get('url')})
            reason = None
            for r, f in chain:
                res = f.filter(doc)
                keep, why = res if isinstance(res, tuple) else (res, None)
                if not keep:
                    reason = '%s:%s' % (r, why)
                    break
            results.append((d['id'], reason, doc.text if name in ('c4', 'chain') else None))
        timings[name] = {'documents': len(results), 'cpu_seconds': round(time.process_time() - started, 3)}
        for id_, reason, text in results:
            row = {'rule': name, 'id': id_, 'reason': reason}
            if text is not None: row['text'] = text
            out.write(json.dumps(row, ensure_ascii=False) + '\n')
print(json.dumps(timings), file=sys.stderr)
