#!/usr/bin/env python3
"""The corpus of scripts/bench-filters, assembled from ../shared/data: pages as `thresh extract` gives them (PAGES.jsonl,
from every archive folder), the extraction sets' gold texts, and the text folders cut into documents of 3 to 60
lines (sizes cycling, so short and long documents both occur). Writes DOCS.jsonl ({id, text, url when known}).
usage: filters_corpus.py SHARED_DATA PAGES.jsonl DOCS.jsonl"""
import glob, gzip, json, os, sys

data, pages, out_path = sys.argv[1:4]
docs = []
for line in open(pages, encoding='utf-8'):
    d = json.loads(line)
    if isinstance(d.get('text'), str) and d['text'].strip():
        docs.append({'id': 'page:' + d['id'], 'text': d['text'], 'url': d.get('url')})
for path in sorted(glob.glob(os.path.join(data, 'extraction', 'cleaneval', '*', 'gold', '*.txt'))
                   + glob.glob(os.path.join(data, 'extraction', 'cleanportaleval', 'gold', '*'))):
    docs.append({'id': 'gold:' + os.path.relpath(path, data), 'text': open(path, encoding='utf-8', errors='replace').read()})
ev = json.load(open(os.path.join(data, 'extraction', 'trafilatura-eval', 'evaldata.json'), encoding='utf-8'))
for url, v in sorted(ev.items()):
    docs.append({'id': 'segments:' + v['file'], 'text': '\n'.join(v.get('with', [])), 'url': url})
sizes = [3, 8, 15, 30, 60]
for path in sorted(glob.glob(os.path.join(data, 'text', '*', '*'))):
    if path.endswith('.md') or os.path.basename(path).startswith('README'):
        continue
    raw = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    text = raw.decode('utf-8', errors='replace')
    if path.endswith(('.jsonl', '.jsonl.gz', '.json.gz')):
        for n, l in enumerate(text.splitlines()):
            if l.strip():
                d = json.loads(l)
                docs.append({'id': 'text:%s#%d' % (os.path.relpath(path, data), n), 'text': d.get('text', ''), 'url': d.get('id') if str(d.get('id', '')).startswith('http') else None})
        continue
    lines = text.split('\n')
    i = k = 0
    while i < len(lines):
        size = sizes[k % len(sizes)]
        docs.append({'id': 'text:%s@%d' % (os.path.relpath(path, data), i), 'text': '\n'.join(lines[i:i + size])})
        i += size
        k += 1
seen = {}
with open(out_path, 'w', encoding='utf-8') as f:
    for d in docs:
        # Pages of the extraction sets share record ids across sets: number the repeats.
        n = seen.get(d['id'], 0)
        seen[d['id']] = n + 1
        if n: d['id'] += '#%d' % n
        if d.get('url') is None: d.pop('url', None)
        f.write(json.dumps(d, ensure_ascii=False) + '\n')
print(json.dumps({'documents': len(docs), 'with_url': sum(1 for d in docs if d.get('url'))}), file=sys.stderr)
