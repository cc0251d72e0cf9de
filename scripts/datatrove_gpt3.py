"""The GPT-3 pipeline as datatrove runs it, for scripts/bench-run: WARC reader → Trafilatura → a sampler standing in
for the quality step (datatrove has no quality classifier; the keep rate is Thresh's own, so both pipelines carry
the same volume onwards) → MinHash dedup in datatrove's four stages → GPT-2 tokenizer (HF `tokenizers`).

usage: python datatrove_gpt3.py CRAWL_DIR VOCABULARY_DIR WORK_DIR WORKERS KEEP_RATE
Prints one JSON line: seconds per stage and documents in/out.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from datatrove_common import gpt2_tokenizer_file, minhash_buckets_and_clusters, stage_runner
from datatrove.pipeline.dedup import MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import SamplerFilter
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.tokens import DocumentTokenizer
from datatrove.pipeline.writers import JsonlWriter


def main():
    crawl, vocabulary, work, workers, keep_rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    tasks = len([f for f in os.listdir(crawl) if f.endswith(".warc.gz")])

    # datatrove's tokenizer loads a `tokenizers` JSON file; build GPT-2's from the same encoder.json/vocab.bpe Thresh reads.
    tokenizer_file = gpt2_tokenizer_file(vocabulary, work)

    config = MinhashConfig()  # datatrove's default: 5-grams, 14 buckets of 8 hashes
    seconds = {}
    run = stage_runner(work, workers, seconds)

    start = time.monotonic()
    run("extract_sample_signatures", [
        WarcReader(crawl, glob_pattern="*.warc.gz"),
        Trafilatura(favour_precision=True, timeout=5.0),
        SamplerFilter(rate=keep_rate, seed=1),
        JsonlWriter(os.path.join(work, "sampled")),
        MinhashDedupSignature(output_folder=os.path.join(work, "signatures"), config=config),
    ], tasks)
    minhash_buckets_and_clusters(run, work, config)
    run("filter_tokenize", [
        JsonlReader(os.path.join(work, "sampled")),
        MinhashDedupFilter(input_folder=os.path.join(work, "remove_ids")),
        DocumentTokenizer(output_folder=os.path.join(work, "tokens"), tokenizer_name_or_path=tokenizer_file,
                          eos_token="<|endoftext|>"),
    ], tasks)
    total = time.monotonic() - start

    print(json.dumps({"tool": "datatrove", "workers": workers, "seconds": round(total, 2), "stage_seconds": seconds,
                      "tokens_files": sorted(os.listdir(os.path.join(work, "tokens")))[:4]}))


if __name__ == "__main__":  # datatrove starts worker processes that import this file
    main()
