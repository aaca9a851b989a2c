"""airflow_pipeline benchmark (issue 8): one 1-million-row delivery file loaded into PostgreSQL,
datalab's `POST /upload` against the original project's approach (a PySpark job that reads the
Parquet file from S3 and appends through JDBC on the local Spark cluster, run through Spark
Connect), side by side in one run. Prints a Markdown table for BENCHMARKS.md.

    services/ctl start postgres seaweedfs spark
    ~/.cache/datalab/venv/bin/python bench/airflow_pipeline/run.py [--rows 1000000]

datalab: `datalab serve --no-seed` under /usr/bin/time -v on a bench bucket; the time is the
POST /upload request (the service is already up, as in production); the memory is the server
process's peak RSS over its whole life. Original: the job's read+write time as measured inside
the client (the Connect session is opened first, not timed: the Spark cluster is already up
too); the memory of the Python client (/usr/bin/time -v) and, since the work runs in the JVMs,
the Connect server (driver) and executor RSS sampled every 0.2 s from /proc.
Everything created (objects, bucket, rows, table) is removed at the end.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import boto3
import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from local_s3 import remove_bucket, with_local_services  # noqa: E402
from spark_jvms import JvmSampler  # noqa: E402
HERE = os.path.dirname(os.path.abspath(__file__))
SPARK_PYTHON = os.path.expanduser("~/.cache/datalab/spark-venv/bin/python")
BUCKET = "bench-airflow-pipeline"
SPARK_TABLE = "airflow_pipeline.bakery_deliveries_spark"

# The delivery file schema datalab writes and reads (delivery_schema() in delivery_pipeline.cpp).
SCHEMA = pa.schema([
    pa.field("delivery_id", pa.string(), nullable=False),
    pa.field("item_type", pa.string(), nullable=False),
    pa.field("quantity", pa.int32(), nullable=False),
    pa.field("price_per_unit", pa.decimal128(12, 2), nullable=False),
    pa.field("manufacture_datetime", pa.timestamp("us"), nullable=False),
])
# Item types of the fixtures, with a typical unit price (EUR).
ITEMS = {"croissant": 2.50, "almond_croissant": 3.20, "pain_au_chocolat": 2.80, "sourdough_bread": 4.75,
         "baguette": 2.10, "rye_bread": 4.20, "multigrain_bread": 4.50, "whole_wheat_bread": 3.90,
         "bagel": 1.60, "blueberry_scone": 2.90, "chocolate_chip_cookie": 1.50, "chocolate_muffin": 2.70,
         "pumpkin_muffin": 2.80, "cinnamon_roll": 3.10, "donut": 1.80, "lemon_tart": 3.60, "apple_turnover": 2.90}


def settings():
    e = with_local_services(os.environ)
    e["DELIVERY_BUCKET"] = BUCKET
    return e


def generate(path, n, seed=20240115):
    """n delivery lines, about 8 per delivery, each delivery baked on one early morning of 2024."""
    rng = np.random.default_rng(seed)
    names = np.array(list(ITEMS))
    base = np.array([ITEMS[k] for k in names])
    per_delivery = rng.integers(3, 14, size=n)  # lines per delivery, cut to n lines below
    delivery_of_line = np.repeat(np.arange(len(per_delivery)), per_delivery)[:n]
    deliveries = delivery_of_line[-1] + 1
    item = rng.integers(0, len(names), size=n)
    quantity = rng.integers(6, 121, size=n).astype(np.int32)
    cents = np.round(base[item] * rng.uniform(0.9, 1.15, size=n) * 100).astype(np.int64)
    day = rng.integers(0, 366, size=deliveries)  # day of 2024 of each delivery
    start = np.datetime64("2024-01-01T00:00:00", "us")
    minute = rng.integers(2 * 60, 6 * 60, size=n)  # baked between 02:00 and 06:00
    baked = (start + day[delivery_of_line].astype("timedelta64[D]") + minute.astype("timedelta64[m]")).astype("datetime64[us]")
    ids = np.char.add("DEL-", np.char.zfill(delivery_of_line.astype(str), 7))
    # Decimal column from integer cents, exact: 128-bit little-endian unscaled values (cents >= 0).
    unscaled = np.zeros((n, 2), dtype=np.int64)
    unscaled[:, 0] = cents
    price = pa.Array.from_buffers(pa.decimal128(12, 2), n, [None, pa.py_buffer(unscaled.tobytes())])
    table = pa.Table.from_arrays([
        pa.array(ids, pa.string()),
        pa.array(names[item], pa.string()),
        pa.array(quantity, pa.int32()),
        price,
        pa.array(baked, pa.timestamp("us")),
    ], schema=SCHEMA)
    # Like the service's own files: zstd; row groups of 128 Ki rows.
    pq.write_table(table, path, compression="zstd", row_group_size=131072)
    return deliveries


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gnu_time_rss_mib(path):
    text = open(path).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not m:
        sys.exit(f"no peak RSS in {path}:\n{text[-2000:]}")
    return int(m.group(1)) / 1024


def children(pid):
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def pg(env):
    c = psycopg2.connect(host=env["DB_HOST"], port=env["DB_PORT"], dbname=env["POSTGRES_DB"],
                         user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"])
    c.autocommit = True
    return c


def count(env, sql, args=()):
    with pg(env) as c, c.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def run_datalab(datalab, env, s3, name, local, work):
    s3.upload_file(local, BUCKET, name)
    port = free_port()
    time_log, server_log = os.path.join(work, "datalab.time"), open(os.path.join(work, "datalab.log"), "w")
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_log, datalab, "serve", "--no-seed", "--port", str(port)],
                            env=env, stdout=server_log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                server_log.flush()
                sys.exit("datalab serve did not come up:\n" + open(server_log.name).read()[-3000:])
            time.sleep(0.1)
        start = time.perf_counter()
        req = urllib.request.Request(base + "/upload", data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=3600) as r:
                status, body = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        seconds = time.perf_counter() - start
    finally:
        # SIGTERM to the server itself (GNU time would die of it without reporting).
        for child in children(proc.pid):
            os.kill(child, 15)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server_log.close()
    if status != 201 or body.get("rows") != EXPECTED_ROWS[0]:
        sys.exit(f"POST /upload answered {status}: {body}")
    return seconds, gnu_time_rss_mib(time_log), body


def run_spark(env, s3, name, local, work):
    key = f"spark/{name}"
    s3.upload_file(local, BUCKET, key)
    with pg(env) as c, c.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS airflow_pipeline")
        cur.execute(f"DROP TABLE IF EXISTS {SPARK_TABLE}")
        # The columns of bakery_deliveries without datalab's additions for idempotent loads
        # (source_fingerprint, the unique key): the original had neither; source_row stays NULL.
        cur.execute(f"""CREATE TABLE {SPARK_TABLE} (
            id bigserial PRIMARY KEY,
            delivery_id text NOT NULL,
            item_type text NOT NULL,
            quantity integer NOT NULL CHECK (quantity >= 0),
            price_per_unit numeric(12, 2) NOT NULL CHECK (price_per_unit >= 0),
            manufacture_datetime timestamp NOT NULL,
            source_file text NOT NULL,
            source_row bigint,
            upload_timestamp timestamptz NOT NULL DEFAULT now())""")
        cur.execute(f"CREATE INDEX ON {SPARK_TABLE} (delivery_id)")
    sampler = JvmSampler()
    if not sampler.jvms["driver"]:
        sys.exit("no Spark Connect server: run services/ctl start spark")
    sampler.start()
    time_log = os.path.join(work, "spark.time")
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", "-o", time_log, SPARK_PYTHON, os.path.join(HERE, "pyspark_baseline.py"),
                        f"s3a://{BUCKET}/{key}", SPARK_TABLE], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    sampler.stop()
    if r.returncode != 0:
        sys.exit(f"pyspark baseline failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    m = re.search(r"rows=(\d+) seconds=([\d.]+) connect_seconds=([\d.]+)", r.stdout)
    return {"rows": int(m.group(1)), "seconds": float(m.group(2)), "connect": float(m.group(3)), "wall": wall,
            "client_mib": gnu_time_rss_mib(time_log), "jvm_before": sampler.before, "jvm_peak": sampler.peak,
            "executors": len(sampler.jvms["executor"])}


def schema_exists(env):
    return bool(count(env, "SELECT count(*) FROM pg_namespace WHERE nspname = 'airflow_pipeline'"))


def cleanup(env, s3, name, drop_schema):
    """Removes what the run made: the schema itself when it did not exist before the run (datalab
    serve creates it), else the Spark table and the rows and upload record of the bench file."""
    statements = (["DROP SCHEMA IF EXISTS airflow_pipeline CASCADE"] if drop_schema else
                  [f"DROP TABLE IF EXISTS {SPARK_TABLE}",
                   "DELETE FROM airflow_pipeline.bakery_deliveries WHERE source_file = %(f)s",
                   "DELETE FROM airflow_pipeline.uploads WHERE source_file = %(f)s"])
    for sql in statements:
        try:
            with pg(env) as c, c.cursor() as cur:
                cur.execute(sql, {"f": name})
        except psycopg2.Error as e:
            print(f"cleanup (PostgreSQL): {e}", file=sys.stderr)
    remove_bucket(s3, BUCKET)


EXPECTED_ROWS = [0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--datalab", default=os.path.join(ROOT, "build", "release", "datalab"))
    a = p.parse_args()
    EXPECTED_ROWS[0] = a.rows
    env = settings()
    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env.get("AWS_REGION", "us-east-1"))
    name = f"bench_delivery_{a.rows}_{uuid.uuid4().hex[:8]}.parquet"
    drop_schema = not schema_exists(env)
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as work:
        local = os.path.join(work, name)
        t = time.perf_counter()
        deliveries = generate(local, a.rows)
        size_mib = os.path.getsize(local) / 2**20
        print(f"generated {name}: {a.rows:,} rows, {deliveries:,} deliveries, {size_mib:.1f} MiB "
              f"({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
        try:
            s3.create_bucket(Bucket=BUCKET)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        try:
            dl_seconds, dl_mib, body = run_datalab(a.datalab, env, s3, name, local, work)
            dl_rows = count(env, "SELECT count(*) FROM airflow_pipeline.bakery_deliveries WHERE source_file = %s", (name,))
            print(f"datalab: {dl_seconds:.2f} s, peak RSS {dl_mib:.0f} MiB, {dl_rows:,} rows in the table ({body})",
                  file=sys.stderr, flush=True)
            sp = run_spark(env, s3, name, local, work)
            sp_rows = count(env, f"SELECT count(*) FROM {SPARK_TABLE}")
            print(f"pyspark: {sp}, {sp_rows:,} rows in the table", file=sys.stderr, flush=True)
        finally:
            cleanup(env, s3, name, drop_schema)
    assert dl_rows == a.rows, f"datalab loaded {dl_rows} rows, expected {a.rows}"
    assert sp_rows == a.rows and sp["rows"] == a.rows, f"pyspark loaded {sp_rows} rows, expected {a.rows}"
    jb, jp = sp["jvm_before"], sp["jvm_peak"]
    lines = [
        f"Delivery file: {a.rows:,} rows, {size_mib:.1f} MiB Parquet (zstd) on the S3 server; "
        f"Spark: standalone, 1 worker, {sp['executors']} executor JVM(s), 2 cores.",
        "",
        "| approach | rows | seconds | rows/s | peak memory | speed vs original |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
        f"| datalab `POST /upload` (Parquet from S3 → binary COPY to a temp table → INSERT … ON CONFLICT) | "
        f"{dl_rows:,} | {dl_seconds:.2f} | {a.rows / dl_seconds:,.0f} | {dl_mib:.0f} MiB (server process) | "
        f"{sp['seconds'] / dl_seconds:.1f}× |",
        f"| original: PySpark job via Spark Connect (s3a read → JDBC append) | {sp_rows:,} | {sp['seconds']:.2f} | "
        f"{a.rows / sp['seconds']:,.0f} | client {sp['client_mib']:.0f} MiB; Connect driver JVM {jp['driver']:.0f} MiB "
        f"(at job start {jb['driver']:.0f}) + executor JVM {jp['executor']:.0f} MiB (at job start {jb['executor']:.0f}) | 1.0× |",
        "",
        f"Ratio (original seconds / datalab seconds): {sp['seconds'] / dl_seconds:.2f}. "
        f"PySpark client process wall time {sp['wall']:.2f} s including {sp['connect']:.2f} s to open the "
        f"Connect session (not in the table).",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
