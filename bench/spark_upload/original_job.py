"""The original project's week 7 load step, as a PySpark job run through Spark Connect on the
local Spark cluster: read products.parquet from S3 (s3a://), rename Product -> name and
Price -> price, add created_at, append to a PostgreSQL table through Spark's JDBC writer.

    ~/.cache/datalab/spark-venv/bin/python original_job.py s3a://bucket/products.parquet schema.table
Env: SPARK_CONNECT_URL (sc://127.0.0.1:15002), DB_HOST, DB_PORT, POSTGRES_DB, POSTGRES_USER,
POSTGRES_PASSWORD; BENCH_LAUNCH_EPOCH (time.time() when the runner started this process).
Prints `seconds=S import_seconds=I connect_seconds=C start_epoch=A end_epoch=B`: S the
read + transform + JDBC write (from A to B), I from process launch to pyspark imported, C the
Connect session creation.

The JDBC URL carries stringtype=unspecified: the landed Price is text (as received), and the
target's price column is numeric(12, 2) like spark_upload.products, so PostgreSQL converts it.
"""
import os
import sys
import time

LAUNCH = float(os.environ.get("BENCH_LAUNCH_EPOCH") or time.time())

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyspark.sql.functions import current_timestamp  # noqa: E402
from pyspark_jdbc import connect, jdbc_target  # noqa: E402

IMPORTED = time.time()


def main():
    path, table = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    spark = connect()
    connected = time.perf_counter()
    url, props = jdbc_target("?stringtype=unspecified")
    start_epoch, start = time.time(), time.perf_counter()
    df = spark.read.parquet(path)
    df = (df.withColumnRenamed("Product", "name")
            .withColumnRenamed("Price", "price")
            .withColumn("created_at", current_timestamp()))
    df.write.jdbc(url=url, table=table, mode="append", properties=props)
    seconds, end_epoch = time.perf_counter() - start, time.time()
    spark.stop()
    print(f"seconds={seconds:.3f} import_seconds={IMPORTED - LAUNCH:.3f} "
          f"connect_seconds={connected - t0:.3f} start_epoch={start_epoch:.3f} end_epoch={end_epoch:.3f}")


if __name__ == "__main__":
    main()
