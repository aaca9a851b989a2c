"""The original project's load step, as a PySpark job run through Spark Connect on the local
Spark cluster: read one delivery Parquet file from S3 (s3a://), add source_file and
upload_timestamp, append to a PostgreSQL table through JDBC.

    ~/.cache/datalab/spark-venv/bin/python pyspark_baseline.py s3a://bucket/key.parquet schema.table
Env: SPARK_CONNECT_URL (sc://127.0.0.1:15002), DB_HOST, DB_PORT, POSTGRES_DB, POSTGRES_USER,
POSTGRES_PASSWORD. Prints `rows=N seconds=S connect_seconds=C`.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyspark.sql import functions as F  # noqa: E402
from pyspark_jdbc import connect, jdbc_target  # noqa: E402


def main():
    path, table = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    spark = connect()
    connected = time.perf_counter()
    url, props = jdbc_target()
    start = time.perf_counter()
    df = spark.read.parquet(path)
    df = (df.withColumn("source_file", F.lit(path.rsplit("/", 1)[-1]))
            .withColumn("upload_timestamp", F.current_timestamp()))
    df.write.jdbc(url=url, table=table, mode="append", properties=props)
    seconds = time.perf_counter() - start
    # The rows the job read (a second, cheap metadata-backed count, not timed).
    rows = spark.read.parquet(path).count()
    spark.stop()
    print(f"rows={rows} seconds={seconds:.3f} connect_seconds={connected - t0:.3f}")


if __name__ == "__main__":
    main()
