#!/usr/bin/env python3
"""fasttext-predict (fastText's C++ predict) beside `thresh lang`: agreement on LINES.jsonl (top-1 label, top-5 labels,
worst probability difference) against Thresh's output THRESH.jsonl (made with --top-k 5), and predict's speed on
DOCS.jsonl (newlines made spaces, as datatrove and thresh lang do; one thread, the time of the predict calls only).
usage: lang_reference.py MODEL LINES.jsonl THRESH.jsonl DOCS.jsonl"""
import json, sys, time
import fasttext

model_path, lines_path, thresh_path, docs_path = sys.argv[1:5]
model = fasttext.load_model(model_path)
mine = {}
for line in open(thresh_path, encoding='utf-8'):
    d = json.loads(line)
    a = d.get('attrs', {})
    mine[d['id']] = a.get('lang_top') or ([[a['lang'], a['lang_score']]] if 'lang' in a else [])
lines = top1 = top5 = 0
worst = 0.0
worst_id = None
disagreements = []
for line in open(lines_path, encoding='utf-8'):
    d = json.loads(line)
    labels, probs = model.predict(d['text'].replace('\n', ' '), k=5)
    ref = [(l[len('__label__'):], float(p)) for l, p in zip(labels, probs)]
    got = [(l, float(p)) for l, p in mine.get(d['id'], [])]
    lines += 1
    if ref[:1] and got[:1] and ref[0][0] == got[0][0]:
        top1 += 1
    elif len(disagreements) < 5:
        disagreements.append((d['id'], ref[:1], got[:1]))
    if [l for l, _ in ref] == [l for l, _ in got]:
        top5 += 1
        for (_, p), (_, q) in zip(ref, got):
            if abs(p - q) > worst:
                worst, worst_id = abs(p - q), d['id']
print(json.dumps({'lines': lines, 'same_top1': top1, 'same_top5_labels': top5, 'worst_probability_difference': worst,
                  'worst_line': worst_id, 'first_disagreements': disagreements}))
texts = [json.loads(l)['text'].replace('\n', ' ') for l in open(docs_path, encoding='utf-8')]
best = None
for _ in range(3):
    start = time.perf_counter()
    for t in texts:
        model.predict(t, k=1)
    seconds = time.perf_counter() - start
    best = seconds if best is None else min(best, seconds)
nbytes = sum(len(t.encode('utf-8')) for t in texts)
print(json.dumps({'tool': 'fasttext-predict', 'threads': 1, 'documents': len(texts), 'documents_per_s': round(len(texts) / best, 1),
                  'mb_per_s': round(nbytes / best / 1e6, 1)}))
