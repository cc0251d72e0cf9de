#!/usr/bin/env python3
"""Reads a Thresh shard directory with the trainers' own loaders and checks what they see.

usage: trainers_read_shards.py megatron SHARD_DIR SPLIT CACHE_DIR
       trainers_read_shards.py hf SHARD_DIR

megatron: megatron-core's IndexedDataset reads every shard (its entries, laid end to end, are the .bin's token
stream; in the 'document' layout each entry is one document ending in <|endoftext|>, but for the head of a document
running into the next shard); BlendedMegatronDatasetBuilder builds GPTDatasets with SPLIT and a blend over all
shards; every sample of every split is checked against the entries it names, its position ids against the resets
after each <|endoftext|>, every document boundary inside a sample for a reset, and every blended sample against the
dataset sample it stands for.

hf: Hugging Face datasets loads the text shards (.jsonl.zst) with its json builder.

Prints one JSON object of what was found; exits 1 with a message on the first check that fails."""
import glob, hashlib, json, os, signal, sys

import numpy as np

EOT = 50256


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def megatron(directory, split, cache):
    # Megatron loops forever building a split that holds no document; a hang is a failure here, not a stuck test.
    signal.signal(signal.SIGALRM, lambda *_: fail("megatron-core did not finish building the datasets in 300 s"))
    signal.alarm(300)
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDataset
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder

    # The builder asks for a process group even on one rank: a single-process gloo group, through a file.
    os.makedirs(cache, exist_ok=True)
    torch.distributed.init_process_group("gloo", init_method="file://" + os.path.join(cache, "rendezvous"), rank=0, world_size=1)

    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    length = manifest["sequence_length"]
    layout = manifest["megatron_entries"]
    prefixes = [os.path.join(directory, s["name"]) for s in manifest["shards"]]
    entries = {}        # prefix -> list of numpy arrays (the entries)
    head_pieces = set()  # (prefix, entry) of a document's head running into the next shard
    for n, prefix in enumerate(prefixes):
        indexed = IndexedDataset(prefix)
        flat = np.fromfile(prefix + ".bin", dtype=np.uint16)
        # Copies: the IndexedDataset unmaps its .bin when it goes away.
        pieces = [np.array(indexed[i]) for i in range(len(indexed))]
        if len(pieces) != manifest["shards"][n]["megatron_entries"]:
            fail(f"{prefix}: {len(pieces)} entries, the manifest says {manifest['shards'][n]['megatron_entries']}")
        if not np.array_equal(np.concatenate(pieces), flat):
            fail(f"{prefix}: the entries laid end to end are not the .bin's tokens")
        if not np.array_equal(indexed.document_indices, np.arange(len(pieces) + 1)):
            fail(f"{prefix}: the document index is not one document per entry")
        for i, piece in enumerate(pieces):
            if layout == "sequence":
                if piece.size != length:
                    fail(f"{prefix}: entry {i} has {piece.size} tokens, not one sequence of {length}")
                continue
            inside = np.flatnonzero(piece[:-1] == EOT)
            if inside.size:
                fail(f"{prefix}: entry {i} holds <|endoftext|> at {int(inside[0])}, inside a document")
            if piece[-1] != EOT:
                if i != len(pieces) - 1:
                    fail(f"{prefix}: entry {i} does not end in <|endoftext|> and is not the shard's last")
                head_pieces.add((prefix, i))
        entries[prefix] = pieces

    class Tokenizer:
        """What GPTDataset asks of a tokenizer: GPT-2's <|endoftext|> and vocabulary size."""
        eod = EOT
        vocab_size = 50257
        unique_identifiers = {"class": "gpt2-thresh-test"}

    config = GPTDatasetConfig(
        random_seed=1234, sequence_length=length, blend=(prefixes, None), split=split,
        tokenizer=Tokenizer(), reset_position_ids=True, reset_attention_mask=True, eod_mask_loss=False,
        create_attention_mask=False, path_to_cache=cache)
    total_tokens = sum(p.size for pieces in entries.values() for p in pieces)
    weights = [float(w) for w in split.split(",")]
    sizes = [int(total_tokens // length * w / sum(weights)) for w in weights]
    built = BlendedMegatronDatasetBuilder(GPTDataset, sizes, lambda: True, config).build()
    signal.alarm(0)

    samples = boundaries = resets = head_joins = blended = 0
    for blend in built:
        if blend is None:
            continue
        for dataset in blend.datasets:
            pieces = entries[dataset.dataset_path]
            for i in range(len(dataset)):
                text, document_ids = dataset._query_document_sample_shuffle_indices(i)
                index = dataset.shuffle_index[i]
                offset = int(dataset.sample_index[index][1])
                joined = np.concatenate([pieces[d] for d in document_ids]).astype(np.int64)
                want = joined[offset:offset + length + 1]
                got = text[:want.size]
                if not np.array_equal(got, want):
                    fail(f"{dataset.dataset_path}: sample {i} is not the tokens of the documents it names {dataset.index_split} {document_ids} {offset} {got[:5]} {want[:5]} {got.size} {want.size} {joined.size}")
                if text.size > want.size and not (text[want.size:] == dataset._pad_token_id).all():
                    fail(f"{dataset.dataset_path}: sample {i} runs past its documents with tokens that are not padding")
                item = dataset[i]
                tokens = item["tokens"].numpy()
                positions = item["position_ids"].numpy()
                expected = np.arange(tokens.size)
                start = 0
                for j in range(tokens.size):
                    expected[j] = j - start
                    if tokens[j] == EOT:
                        start = j + 1
                if not np.array_equal(positions, expected):
                    fail(f"{dataset.dataset_path}: sample {i}'s position ids do not restart after each <|endoftext|>")
                # Each boundary between two documents inside the sample: the next document starts at position 0,
                # unless the one before is a head running into the next shard (its <|endoftext|> is there).
                at = len(pieces[document_ids[0]]) - offset
                for k in range(1, len(document_ids)):
                    if at >= tokens.size:
                        break
                    boundaries += 1
                    if positions[at] == 0:
                        resets += 1
                    elif (dataset.dataset_path, int(document_ids[k - 1])) in head_pieces:
                        head_joins += 1
                    else:
                        fail(f"{dataset.dataset_path}: sample {i}: document {int(document_ids[k])} does not restart positions")
                    at += len(pieces[document_ids[k]])
                samples += 1
        for i in range(len(blend)):
            got = blend[i]["tokens"]
            want = blend.datasets[blend.dataset_index[i]][blend.dataset_sample_index[i]]["tokens"]
            if not torch.equal(got, want):
                fail(f"blended sample {i} is not sample {blend.dataset_sample_index[i]} of dataset {blend.dataset_index[i]}")
            blended += 1
    print(json.dumps({
        "shards": len(prefixes), "entries": sum(len(p) for p in entries.values()), "head_pieces": len(head_pieces),
        "samples": samples, "blended_samples": blended, "boundaries": boundaries, "resets": resets,
        "head_joins": head_joins, "splits_built": [b is not None for b in built],
    }))


def hugging_face(directory):
    import datasets
    files = sorted(glob.glob(os.path.join(directory, "shard-*.jsonl.zst")))
    loaded = datasets.load_dataset("json", data_files=files, split="train")
    digest = hashlib.sha256()
    spans = 0
    for row in loaded:
        digest.update(row["id"].encode() + b"\0" + row["text"].encode() + b"\0")
        spans += row["attrs"]["shard_tokens"]
    print(json.dumps({"rows": loaded.num_rows, "digest": digest.hexdigest(), "columns": sorted(loaded.column_names),
                      "span_tokens": spans}))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "megatron":
        megatron(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "hf":
        hugging_face(sys.argv[2])
    else:
        fail(__doc__)
