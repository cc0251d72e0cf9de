#!/usr/bin/env python3
"""Writes the pages of an extraction benchmark (as ../shared/tools/thresh_ref.py enumerates them) into a WARC,
one gzip member per response, with no charset in the HTTP header (so Thresh's own detection decides), so that
Thresh runs through its real path (thresh warc | thresh extract) on exactly the pages the reference tools see.
Record ids are <urn:thresh-bench:N>; OUT.manifest.json maps them to benchmark keys (pass it to extract-score
with --manifest), since keys can hold characters a WARC header cannot keep (trailing spaces).
usage: pages-to-warc.py DATASET OUT.warc.gz"""
import gzip, json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'tools'))
import thresh_ref

dataset, out = sys.argv[1], sys.argv[2]
kind, root = thresh_ref.dataset(dataset)
manifest = []
with open(out, 'wb') as f:
    for n, (key, html) in enumerate(thresh_ref.pages(kind, root)):
        rid = '<urn:thresh-bench:%d>' % n
        manifest.append(dict(record_id=rid, key=key))
        http = b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n' % len(html) + html
        head = ('WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: %s\r\nWARC-Target-URI: %s\r\n'
                'Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n' % (rid, key.strip() if '://' in key else 'file:' + key, len(http))).encode()
        f.write(gzip.compress(head + http + b'\r\n\r\n', 6))
json.dump(manifest, open(out.rsplit('.warc', 1)[0] + '.manifest.json', 'w'))
