#!/usr/bin/env python3
"""An independent reader of Megatron-LM indexed datasets (MMIDIDX version 1), written from the format's
description: header b'MMIDIDX\\x00\\x00', uint64 version (1), uint8 dtype code (8 = uint16), uint64 sequence count,
uint64 document count, then int32 sequence lengths, int64 byte offsets of the sequences in the .bin, and int64
document index. Prints JSON: sequences (entries), documents, tokens, the first tokens, how many entries end in
<|endoftext|> and how many hold one inside, and whether the .bin and a flat
nanoGPT-style uint16 read of the same file agree. usage: read_megatron.py PREFIX (PREFIX.bin, PREFIX.idx)"""
import json, struct, sys
import numpy as np

prefix = sys.argv[1]
with open(prefix + ".idx", "rb") as f:
    magic = f.read(9)
    assert magic == b"MMIDIDX\x00\x00", magic
    version, = struct.unpack("<Q", f.read(8))
    assert version == 1, version
    dtype_code, = struct.unpack("<B", f.read(1))
    dtype = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}[dtype_code]
    count, = struct.unpack("<Q", f.read(8))
    doc_count, = struct.unpack("<Q", f.read(8))
    offset = f.tell()
buffer = np.memmap(prefix + ".idx", mode="r", order="C")
sizes = np.frombuffer(buffer, dtype=np.int32, count=count, offset=offset)
pointers = np.frombuffer(buffer, dtype=np.int64, count=count, offset=offset + sizes.nbytes)
doc_idx = np.frombuffer(buffer, dtype=np.int64, count=doc_count, offset=offset + sizes.nbytes + pointers.nbytes)
data = np.memmap(prefix + ".bin", mode="r", dtype=dtype)
sequences = [np.frombuffer(data, dtype=dtype, count=int(sizes[i]), offset=int(pointers[i])) for i in range(count)]
flat = np.fromfile(prefix + ".bin", dtype=np.uint16)
joined = np.concatenate(sequences) if sequences else np.array([], dtype=dtype)
print(json.dumps({
    "sequences": int(count), "documents": int(doc_count) - 1, "tokens": int(joined.size),
    "sizes": sorted(set(int(s) for s in sizes)), "doc_idx_is_range": bool((doc_idx == np.arange(doc_count)).all()),
    "eot_count": int((joined == 50256).sum()), "first": [int(x) for x in joined[:8]],
    "entries_ending_in_eot": sum(1 for s in sequences if s.size and s[-1] == 50256),
    "entries_with_inner_eot": sum(1 for s in sequences if (s[:-1] == 50256).any()),
    "nanogpt_equal": bool(np.array_equal(flat, joined)),
}))
