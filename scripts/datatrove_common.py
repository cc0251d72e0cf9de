"""What scripts/datatrove_gpt3.py and scripts/datatrove_fineweb.py share: GPT-2's tokenizer as a `tokenizers` file
(datatrove's DocumentTokenizer loads one) built from the same encoder.json and vocab.bpe Thresh reads, and a runner
that times each datatrove stage."""
import os
import time


def gpt2_tokenizer_file(vocabulary, work):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    bpe = models.BPE.from_file(os.path.join(vocabulary, "encoder.json"), os.path.join(vocabulary, "vocab.bpe"))
    tokenizer = Tokenizer(bpe)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.add_special_tokens(["<|endoftext|>"])
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "gpt2-tokenizer.json")
    tokenizer.save(path)
    return path


def stage_runner(work, workers, seconds):
    """run(name, pipeline, tasks): one datatrove stage on `workers` processes, its wall seconds put in `seconds`."""
    from datatrove.executor.local import LocalPipelineExecutor

    def run(name, pipeline, stage_tasks):
        start = time.monotonic()
        LocalPipelineExecutor(pipeline=pipeline, tasks=stage_tasks, workers=min(workers, stage_tasks),
                              logging_dir=os.path.join(work, "logs", name)).run()
        seconds[name] = round(time.monotonic() - start, 2)
    return run


def minhash_buckets_and_clusters(run, work, config):
    """datatrove's middle MinHash stages: signatures (WORK/signatures) into buckets, buckets into the ids to remove
    (WORK/remove_ids)."""
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster
    run("minhash_buckets", [
        MinhashDedupBuckets(input_folder=os.path.join(work, "signatures"), output_folder=os.path.join(work, "buckets"), config=config),
    ], config.num_buckets)
    run("minhash_cluster", [
        MinhashDedupCluster(input_folder=os.path.join(work, "buckets"), output_folder=os.path.join(work, "remove_ids"), config=config),
    ], 1)
