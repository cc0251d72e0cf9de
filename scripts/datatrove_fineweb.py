"""FineWeb's recipe as datatrove 0.10.1 runs it (its examples/fineweb.py, with the inputs and lists of
scripts/bench-fineweb): WarcReader → URLFilter → Trafilatura(favour_precision) → LanguageFilter(en, 0.65, fastText
lid.176) → GopherRepetitionFilter → GopherQualityFilter → C4QualityFilter → FineWebQualityFilter → MinHash (5-grams,
14 buckets × 8, 64-bit) in datatrove's four stages → PIIFormatter → GPT-2 tokenizer (HF `tokenizers`).

usage: python datatrove_fineweb.py CRAWL_DIR LISTS_DIR LID_MODEL PSL_FILE VOCABULARY_DIR WORK_DIR WORKERS [--stages]
                                  [--from-jsonl DIR]
With --stages every filter's survivors are also written (WORK_DIR/stages/NAME/) and what it drops, with datatrove's
own reason in metadata.filter_reason (WORK_DIR/stages/NAME-dropped/), for the per-stage comparison.
With --from-jsonl the recipe starts at language ID on the documents of DIR/*.jsonl (another extractor's text;
CRAWL_DIR is then unused), to compare the rest of the recipe on the same text.
Prints one JSON line: seconds per datatrove stage and in total.
"""
import json
import os
import sys
import time

crawl, lists, lid_model, psl, vocabulary, work = sys.argv[1:7]
workers = int(sys.argv[7])
with_stages = "--stages" in sys.argv
from_jsonl = sys.argv[sys.argv.index("--from-jsonl") + 1] if "--from-jsonl" in sys.argv else None

# The language model from a local file (no network here): set before any worker starts.
from datatrove.utils.lid import FT176LID
FT176LID.MODEL_URL = "file://" + os.path.abspath(lid_model)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from datatrove_common import gpt2_tokenizer_file, minhash_buckets_and_clusters, stage_runner
from datatrove.pipeline.dedup import MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter, LanguageFilter, URLFilter)
from datatrove.pipeline.formatters import PIIFormatter
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.tokens import DocumentTokenizer
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig


class ListedURLFilter(URLFilter):
    """datatrove's URLFilter with the bench's lists and the Public Suffix List Thresh reads (no network here)."""

    def __init__(self, exclusion_writer=None):
        super().__init__(use_integrated_lists=False, exclusion_writer=exclusion_writer,
                         extra_domains=open(os.path.join(lists, "domains")), extra_urls=open(os.path.join(lists, "urls")),
                         banned_words=open(os.path.join(lists, "banned_words.txt")),
                         banned_subwords=open(os.path.join(lists, "banned_subwords.txt")),
                         soft_banned_words=open(os.path.join(lists, "soft_banned_words.txt")))
        self.banned_subwords_automaton.make_automaton()

    def filter(self, document):
        if not getattr(self, "_psl_set", False):
            from tldextract import TLDExtract
            self.tldextractor = TLDExtract(suffix_list_urls=("file://" + psl,), cache_dir=None, fallback_to_snapshot=False)
            self._psl_set = True
        return super().filter(document)


def main():
    if from_jsonl:
        tasks = len([f for f in os.listdir(from_jsonl) if f.endswith(".jsonl")])
    else:
        tasks = len([f for f in os.listdir(crawl) if f.endswith(".warc.gz")])
    tokenizer_file = gpt2_tokenizer_file(vocabulary, work)

    config = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
    seconds = {}
    run = stage_runner(work, workers, seconds)

    def keep(name):
        return [JsonlWriter(os.path.join(work, "stages", name), compression=None)] if with_stages else []

    def dropped(name):
        """The writer of what a stage drops (datatrove's exclusion_writer), with --stages."""
        return JsonlWriter(os.path.join(work, "stages", name + "-dropped"), compression=None) if with_stages else None

    if from_jsonl:
        extracted = [JsonlReader(from_jsonl, glob_pattern="*.jsonl")]
    else:
        extracted = [WarcReader(crawl, glob_pattern="*.warc.gz"),
                     ListedURLFilter(exclusion_writer=dropped("url")), *keep("url"),
                     Trafilatura(favour_precision=True), *keep("extract")]
    start = time.monotonic()
    run("filtering_and_signatures", [
        *extracted,
        LanguageFilter(languages=["en"], language_threshold=0.65, exclusion_writer=dropped("lang")), *keep("lang"),
        GopherRepetitionFilter(exclusion_writer=dropped("gopher-repetition")), *keep("gopher-repetition"),
        GopherQualityFilter(exclusion_writer=dropped("gopher-quality")), *keep("gopher-quality"),
        C4QualityFilter(filter_no_terminal_punct=False, exclusion_writer=dropped("c4")), *keep("c4"),
        FineWebQualityFilter(exclusion_writer=dropped("fineweb-quality")), *keep("fineweb-quality"),
        JsonlWriter(os.path.join(work, "filtered")),
        MinhashDedupSignature(output_folder=os.path.join(work, "signatures"), config=config),
    ], tasks)
    minhash_buckets_and_clusters(run, work, config)
    run("dedup_pii_tokenize", [
        JsonlReader(os.path.join(work, "filtered")),
        MinhashDedupFilter(input_folder=os.path.join(work, "remove_ids"), exclusion_writer=dropped("dedup")),
        PIIFormatter(),
        *keep("final"),
        DocumentTokenizer(output_folder=os.path.join(work, "tokens"), tokenizer_name_or_path=tokenizer_file,
                          eos_token="<|endoftext|>"),
    ], tasks)
    print(json.dumps({"tool": "datatrove", "workers": workers, "seconds": round(time.monotonic() - start, 2),
                      "stage_seconds": seconds}))


if __name__ == "__main__":  # datatrove starts worker processes that import this file
    main()
