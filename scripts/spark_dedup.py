#!/usr/bin/env python3
"""GPT-3's dedup in pyspark (local[2]) for scripts/bench-dedup: Tokenizer -> HashingTF(2^18) -> MinHashLSH(10 tables,
Spark's default seed) -> approxSimilarityJoin(df, df, distance) with idA < idB. Prints JSON with the time and pairs.
usage: spark_dedup.py CORPUS.jsonl DISTANCE PAIRS_OUT.jsonl"""
import json, os, sys, time
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession
from pyspark.ml.feature import Tokenizer, HashingTF, MinHashLSH
from pyspark.sql import functions as F

corpus, distance, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
spark = (SparkSession.builder.master("local[2]").appName("thresh-bench-dedup")
         .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.memory", "6g")
         .config("spark.driver.extraJavaOptions", "-Duser.language=en -Duser.country=US").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
rows = [json.loads(l) for l in open(corpus)]
df = spark.createDataFrame([(r["id"], r["text"]) for r in rows if r["text"].strip()], ["id", "text"]).cache()
df.count()
t = time.perf_counter()
features = HashingTF(inputCol="tokens", outputCol="features", numFeatures=1 << 18).transform(
    Tokenizer(inputCol="text", outputCol="tokens").transform(df)).cache()
model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=10, seed=328749633).fit(features)
joined = model.approxSimilarityJoin(features, features, distance, "dist") \
    .select(F.col("datasetA.id").alias("a"), F.col("datasetB.id").alias("b"), "dist").filter("a < b").collect()
seconds = time.perf_counter() - t
with open(out, "w") as f:
    for r in joined: f.write(json.dumps({"a": r["a"], "b": r["b"], "jaccard": 1 - r["dist"]}) + "\n")
print(json.dumps({"tool": "spark", "documents": len(rows), "pairs": len(joined), "seconds": round(seconds, 2),
                  "documents_per_s": round(len(rows) / seconds, 1)}))
spark.stop()
