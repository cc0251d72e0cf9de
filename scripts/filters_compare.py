#!/usr/bin/env python3
"""Compares Thresh's filter decisions with datatrove's (scripts/filters_reference.py) for scripts/bench-filters.
usage: filters_compare.py REF.jsonl RULE=THRESH_ANNOTATED.jsonl ...
Prints, per rule, the documents compared, the share with the same decision and reason, the share of C4's edited
texts that are identical, and the disagreement classes (datatrove's reason -> Thresh's) with an example id."""
import collections, json, sys

ref = collections.defaultdict(dict)
for line in open(sys.argv[1], encoding='utf-8'):
    r = json.loads(line)
    ref[r['rule']][r['id']] = r
report = {}
for arg in sys.argv[2:]:
    rule, path = arg.split('=', 1)
    same = texts_same = texts = n = 0
    classes = collections.Counter()
    examples = {}
    for line in open(path, encoding='utf-8'):
        d = json.loads(line)
        if d['id'] not in ref[rule]:
            continue
        r = ref[rule][d['id']]
        attrs = d.get('attrs', {})
        mine = '%s:%s' % (attrs['drop_rule'], attrs['drop_reason']) if 'drop_reason' in attrs else None
        n += 1
        if mine == r['reason']:
            same += 1
        else:
            key = '%s -> %s' % (r['reason'], mine)
            classes[key] += 1
            examples.setdefault(key, d['id'])
        if 'text' in r and r['reason'] is None and mine is None:
            texts += 1
            texts_same += d['text'] == r['text']
    missing = len(ref[rule]) - n
    report[rule] = {'documents': n, 'missing': missing, 'same_decision': same, 'agreement': round(same / n, 5) if n else None,
                    'kept_texts_compared': texts, 'kept_texts_identical': texts_same,
                    'disagreements': [{'class': k, 'count': c, 'example': examples[k]} for k, c in classes.most_common(12)]}
print(json.dumps(report, indent=1, ensure_ascii=False))
