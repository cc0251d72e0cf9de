#!/usr/bin/env python3
"""Segment precision, recall and F1 on the two halves of trafilatura-eval (the tuning protocol of issue 19: the
SHA-1 of each page's file name, first hex digit 0-7 is the tuning half, 8-f the report half, as
Tests/ThreshExtractTests/BenchmarkFloorTests.swift splits it), scored as ../shared/tools/thresh_ref.py extract-score
scores the whole set.
usage: extract_halves.py EVALDATA.json NAME=OUT.jsonl[:MANIFEST.json] ..."""
import hashlib, json, re, sys

WS = re.compile(r'\s+')


def main():
    ev = json.load(open(sys.argv[1], encoding='utf-8'))
    for arg in sys.argv[2:]:
        name, rest = arg.split('=', 1)
        path, _, manifest = rest.partition(':')
        idmap = {m['record_id']: m['key'] for m in json.load(open(manifest))} if manifest else {}
        outputs = {}
        for line in open(path, encoding='utf-8'):
            d = json.loads(line)
            outputs[idmap.get(d.get('id'), d.get('id'))] = d.get('text') or ''
        counts = {'tune': [0, 0, 0, 0], 'report': [0, 0, 0, 0]}  # tp, fn, fp, pages
        for url, v in ev.items():
            half = 'tune' if int(hashlib.sha1(v['file'].encode()).hexdigest()[0], 16) < 8 else 'report'
            c = counts[half]
            c[3] += 1
            text = WS.sub(' ', outputs.get(url, '')).strip()
            for s in v.get('with', []):
                if WS.sub(' ', s).strip() in text: c[0] += 1
                else: c[1] += 1
            for s in v.get('without', []):
                if WS.sub(' ', s).strip() in text: c[2] += 1
        for half, (tp, fn, fp, pages) in counts.items():
            p = tp / (tp + fp) if tp + fp else 0
            r = tp / (tp + fn) if tp + fn else 0
            f1 = 2 * p * r / (p + r) if p + r else 0
            print(json.dumps(dict(tool=name, half=half, pages=pages, precision=round(p, 4), recall=round(r, 4), f1=round(f1, 4))))


if __name__ == '__main__':
    main()
