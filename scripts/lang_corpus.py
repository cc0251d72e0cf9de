#!/usr/bin/env python3
"""The multilingual corpus of scripts/bench-lang, assembled from ../shared/data: the extraction sets' gold text and
trafilatura-eval's segments, the crawl-like pages as `thresh extract` gives them (PAGES.jsonl), and the text folders.
Writes LINES.jsonl (every non-empty line as a document, the first MAX_LINES) and DOCS.jsonl (the texts whole).
usage: lang_corpus.py SHARED_DATA PAGES.jsonl LINES.jsonl DOCS.jsonl [MAX_LINES]"""
import glob, gzip, json, os, sys

data, pages, lines_out, docs_out = sys.argv[1:5]
limit = int(sys.argv[5]) if len(sys.argv) > 5 else 40000
texts = []
for path in sorted(glob.glob(os.path.join(data, 'extraction', 'cleaneval', '*', 'gold', '*.txt'))
                   + glob.glob(os.path.join(data, 'extraction', 'cleanportaleval', 'gold', '*'))):
    texts.append(('gold:' + os.path.relpath(path, data), open(path, encoding='utf-8', errors='replace').read()))
ev = json.load(open(os.path.join(data, 'extraction', 'trafilatura-eval', 'evaldata.json'), encoding='utf-8'))
for url, v in sorted(ev.items()):
    texts.append(('segments:' + v['file'], '\n'.join(v.get('with', []))))
for line in open(pages, encoding='utf-8'):
    d = json.loads(line)
    texts.append(('page:' + d['id'], d['text']))
for path in sorted(glob.glob(os.path.join(data, 'text', '*', '*'))):
    if path.endswith('.md'):
        continue
    raw = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    try:
        if path.endswith(('.jsonl', '.jsonl.gz')):
            for n, l in enumerate(raw.decode('utf-8').splitlines()):
                if l.strip():
                    texts.append(('text:%s#%d' % (os.path.relpath(path, data), n), json.loads(l).get('text', '')))
        else:
            texts.append(('text:' + os.path.relpath(path, data), raw.decode('utf-8', errors='replace')))
    except (ValueError, UnicodeDecodeError):
        continue
with open(docs_out, 'w') as docs, open(lines_out, 'w') as lines:
    written = 0
    for name, text in texts:
        docs.write(json.dumps({'id': name, 'text': text}) + '\n')
        for n, l in enumerate(text.split('\n')):
            if l.strip() and written < limit:
                lines.write(json.dumps({'id': '%s:%d' % (name, n), 'text': l}) + '\n')
                written += 1
print('corpus: %d documents, %d lines' % (len(texts), written), file=sys.stderr)
