#!/usr/bin/env python3
"""The quality classifier in pyspark (local[2]) on the split Thresh wrote, for scripts/bench-quality:
Tokenizer -> HashingTF(numFeatures) -> LogisticRegression(regParam, weights balancing the classes as Thresh does).
Prints JSON: fit seconds, validation AUC, and transform (scoring) throughput on a text file of documents.
usage: spark_quality.py SPLIT.jsonl NUM_FEATURES REG_PARAM SCORE_DOCS.jsonl"""
import json, os, sys, time
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession
from pyspark.ml.feature import Tokenizer, HashingTF
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator

split, num_features, reg, score_docs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
spark = (SparkSession.builder.master("local[2]").appName("thresh-bench")
         .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.memory", "4g")
         .config("spark.driver.extraJavaOptions", "-Duser.language=en -Duser.country=US").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
rows = [json.loads(l) for l in open(split)]
train = [r for r in rows if not r["validation"]]
pos = sum(1 for r in train if r["label"] == 1); neg = len(train) - pos; total = pos + neg
weight = {1: total / (2 * pos), 0: total / (2 * neg)}
df = spark.createDataFrame([(r["text"], float(r["label"]), weight[r["label"]], bool(r["validation"])) for r in rows],
                           ["text", "label", "weight", "validation"])
tok = Tokenizer(inputCol="text", outputCol="tokens")
tf = HashingTF(inputCol="tokens", outputCol="features", numFeatures=num_features)
features = tf.transform(tok.transform(df)).cache()
train_df = features.filter("NOT validation").cache(); valid_df = features.filter("validation").cache()
train_df.count(); valid_df.count()
lr = LogisticRegression(regParam=reg, weightCol="weight")
t = time.perf_counter(); model = lr.fit(train_df); fit_seconds = time.perf_counter() - t
auc = BinaryClassificationEvaluator(rawPredictionCol="rawPrediction", labelCol="label").evaluate(model.transform(valid_df))
texts = [json.loads(l)["text"] for l in open(score_docs)]
sdf = spark.createDataFrame([(x,) for x in texts], ["text"]).cache(); sdf.count()
mb = sum(len(x.encode()) for x in texts) / 1e6
t = time.perf_counter()
model.transform(tf.transform(tok.transform(sdf))).select("probability").rdd.map(lambda r: float(r[0][1])).sum()
score_seconds = time.perf_counter() - t
print(json.dumps({"tool": "spark", "fit_seconds": round(fit_seconds, 3), "iterations": model.summary.totalIterations,
                  "validation_auc": round(auc, 4), "score_mb_per_s": round(mb / score_seconds, 2), "score_mb": round(mb, 2)}))
spark.stop()
