"""spark_upload benchmark (week 7): one products CSV (Product,Price; 1,000,000 rows by default)
loaded into PostgreSQL three ways, side by side in one run. Prints a Markdown table for
BENCHMARKS.md.

    services/ctl start postgres seaweedfs spark
    DATALAB_BIN=/tmp/bench-datalab ~/.cache/datalab/venv/bin/python bench/spark_upload/run.py [--rows 1000000] [--repeat 1]

1. `datalab run spark_upload --engine native`: CSV -> products.parquet on the S3 server, then
   the rows checked and binary-COPY'd into spark_upload.products in one transaction.
2. `datalab run spark_upload --engine spark`: the same landing, then the transform on the local
   Spark cluster through datalab's C++ Spark Connect client, Spark's JDBC writer into staging
   tables, moved into spark_upload.products in one transaction.
3. The original project's PySpark job (original_job.py) through Spark Connect with the pyspark
   client, on the same cluster: read the products.parquet that run 2 landed, rename, add
   created_at, JDBC append into its own table (spark_upload.products_pyspark, recreated before
   each run, same columns and types as spark_upload.products without source).

Whole commands run under /usr/bin/time -v (wall time, the client's peak RSS); for 2 and 3 the
Spark Connect server (driver) and executor JVMs' RSS is sampled every 0.2 s from /proc (the
sampler of bench/airflow_pipeline/run.py) and the Spark jobs they ran are read from the
Connect server's UI REST API. Both datalab runs start from the same table state (earlier bench
rows deleted and the table vacuumed, untimed). Every run is checked with psql right after it:
exactly --rows rows whose sum(price) is the CSV's, else the script stops with an error. With
--repeat N every figure is the median of N runs. The datalab binary is DATALAB_BIN (default
build/release/datalab), or --datalab. At the end the bench bucket, the bench rows and the
baseline table are removed (--keep leaves them); the module's own tables stay.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from decimal import Decimal

import boto3
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from gnu_time import timed  # noqa: E402
from local_s3 import remove_bucket, with_local_services  # noqa: E402
from spark_jvms import JvmSampler  # noqa: E402
HERE = os.path.dirname(os.path.abspath(__file__))
SPARK_PYTHON = os.path.expanduser("~/.cache/datalab/spark-venv/bin/python")
# A bucket of its own per invocation: the run never touches the module's own data.
BUCKET = f"bench-spark-upload-{uuid.uuid4().hex[:8]}"
SOURCE = f"s3://{BUCKET}/products.parquet"  # what datalab stores in spark_upload.products.source
PYSPARK_TABLE = "spark_upload.products_pyspark"


# The kinds of datagen/product_generator.cpp: names "<kind> <model>", prices 1.00 - 999.99.
KINDS = ["Laptop", "Mouse", "Keyboard", "Monitor", "Headphones", "Tablet", "Smartphone", "Printer", "Scanner",
         "Router", "Webcam", "Speaker", "Microphone", "Charger", "Power Bank", "USB Cable", "Memory Card", "SSD",
         "Hard Drive", "Smart Watch", "Camera", "Lens", "Tripod", "Projector", "Game Console", "Controller",
         "E-reader", "Desk Lamp", "Kettle", "Toaster", "Blender", "Microwave", "Vacuum Cleaner", "Fan", "Heater",
         "Backpack", "Water Bottle", "Umbrella", "Notebook", "Pen"]


def settings():
    e = with_local_services(os.environ)
    e.setdefault("SPARK_CONNECT_URL", "sc://127.0.0.1:15002")
    e["SPARK_BUCKET"] = BUCKET
    return e


def generate(path, n, seed=42):
    """n valid products in the module's CSV shape; returns the exact sum of the prices."""
    rng = np.random.default_rng(seed)
    kinds = np.array(KINDS)[rng.integers(0, len(KINDS), size=n)].tolist()
    models = rng.integers(100, 10000, size=n).tolist()
    cents = rng.integers(100, 100000, size=n)
    with open(path, "w") as f:
        f.write("Product,Price\n")
        c = cents.tolist()
        for start in range(0, n, 100_000):
            f.write("".join(f"{kinds[i]} {models[i]},{c[i] // 100}.{c[i] % 100:02d}\n"
                            for i in range(start, min(n, start + 100_000))))
    return Decimal(int(cents.sum())).scaleb(-2)


def psql(env, *statements):
    """Runs each statement with psql (its own transaction); returns the output of the last."""
    cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", env["DB_HOST"], "-p", env["DB_PORT"],
           "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"]]
    for s in statements:
        cmd += ["-c", s]
    r = subprocess.run(cmd, env=dict(env, PGPASSWORD=env["POSTGRES_PASSWORD"]), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr.strip()}\n{statements}")
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def verify(env, what, table, where, n, expected_sum):
    """Fails loudly unless the table holds exactly n rows whose prices sum to expected_sum."""
    rows, total = psql(env, f"SELECT count(*), coalesce(sum(price), 0) FROM {table} {where}").split("|")
    if int(rows) != n or Decimal(total) != expected_sum:
        sys.exit(f"WRONG RESULT from {what}: {table} {where} has {int(rows):,} rows with sum(price) {total}; "
                 f"expected {n:,} rows with sum(price) {expected_sum}")
    return int(rows), Decimal(total)


def spark_time(s):
    return datetime.datetime.strptime(s.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def spark_jobs(user, since, until):
    """The jobs the Spark Connect server ran between two epochs, from its UI's REST API: those
    of Connect user `user` as [(seconds, tasks, input rows, output rows, shuffled rows)], the
    seconds during which at least one of them ran, and the seconds of other users' jobs in the
    window (someone else sharing the cluster)."""
    base = f"http://127.0.0.1:{os.environ.get('SPARK_CONNECT_UI_PORT', '14040')}/api/v1/applications"
    try:
        with urllib.request.urlopen(base, timeout=5) as r:
            app = json.load(r)[0]["id"]
        with urllib.request.urlopen(f"{base}/{app}/jobs", timeout=10) as r:
            jobs = json.load(r)
        with urllib.request.urlopen(f"{base}/{app}/stages", timeout=10) as r:
            stages = {st["stageId"]: st for st in json.load(r)}
    except (OSError, ValueError, IndexError, KeyError) as e:
        print(f"(no Spark job timings: {e})", file=sys.stderr)
        return [], 0.0, 0.0
    mine, others = [], 0.0
    for j in jobs:
        if not j.get("completionTime"):
            continue
        a, b = spark_time(j["submissionTime"]), spark_time(j["completionTime"])
        if b < since or a > until:
            continue
        if not any(f"_User_{user}_Session_" in tag for tag in j.get("jobTags", [])):
            others += min(b, until) - max(a, since)
            continue
        st = [stages[i] for i in j["stageIds"] if i in stages and stages[i].get("status") == "COMPLETE"]
        mine.append((a, b, j.get("numTasks", 0), sum(x.get("inputRecords", 0) for x in st),
                     sum(x.get("outputRecords", 0) for x in st), sum(x.get("shuffleWriteRecords", 0) for x in st)))
    mine.sort()
    busy, end = 0.0, None
    for a, b, *_ in mine:
        if end is None or a > end:
            busy, end = busy + b - a, b
        elif b > end:
            busy, end = busy + b - end, b
    return [(round(b - a, 2), *rest) for a, b, *rest in mine], busy, others


def with_user(env, user):
    """env with the Spark Connect user set to `user` (sc://host:port/;user_id=...)."""
    return dict(env, SPARK_CONNECT_URL=env["SPARK_CONNECT_URL"].split("/;")[0].split(";")[0] + f"/;user_id={user}")


def start_sampler():
    sampler = JvmSampler()
    if not sampler.jvms["driver"]:
        sys.exit("no Spark Connect server: run services/ctl start spark")
    sampler.start()
    return sampler


def run_datalab(datalab, engine, env, csv, work, n, expected_sum):
    # The same starting state for both engines: no earlier bench rows (their delete would be
    # timed inside the run), dead tuples vacuumed away.
    if psql(env, "SELECT to_regclass('spark_upload.products') IS NOT NULL") == "t":
        psql(env, f"DELETE FROM spark_upload.products WHERE source = '{SOURCE}'",
             f"DELETE FROM spark_upload.products_rejected WHERE source = '{SOURCE}'",
             "VACUUM ANALYZE spark_upload.products")
    results = os.path.join(work, f"{engine}.json")
    sampler = start_sampler() if engine == "spark" else None
    user = f"bench_datalab_{uuid.uuid4().hex[:8]}"  # names this run's Spark jobs
    since = time.time()
    wall, client_mib, _ = timed([datalab, "run", "spark_upload", "--engine", engine, "--input", csv, "--show", "0",
                                 "--results", results], env=with_user(env, user), cwd=work)
    until = time.time()
    if sampler:
        sampler.stop()
    r = json.load(open(results))
    if r["rows"] != n or r["loaded"] != n or r["rejected"] != 0:
        sys.exit(f"WRONG RESULT from datalab --engine {engine}: {r}")
    verify(env, f"datalab --engine {engine}", "spark_upload.products", f"WHERE source = '{SOURCE}'", n, expected_sum)
    out = {"wall": wall, "client_mib": client_mib, "landing": r["landing_seconds"], "load": r["load_seconds"],
           "total": r["total_seconds"], "connect": r.get("spark_connect_seconds", 0.0)}
    # Start-up: process start to the run's first step (and exit) outside total_seconds, plus
    # the Spark Connect session for the spark engine.
    out["process"] = wall - r["total_seconds"]
    out["startup"] = out["process"] + out["connect"]
    if sampler:
        out.update(jvm(sampler))
        out["jobs"], out["jobs_busy"], out["foreign_jobs"] = spark_jobs(user, since, until)
    return out


def jvm(sampler):
    return {"driver_before": sampler.before["driver"], "driver_peak": sampler.peak["driver"],
            "executor_before": sampler.before["executor"], "executor_peak": sampler.peak["executor"],
            "executors": len(sampler.jvms["executor"])}


def run_pyspark(env, n, expected_sum):
    psql(env, f"DROP TABLE IF EXISTS {PYSPARK_TABLE}",
         f"""CREATE TABLE {PYSPARK_TABLE} (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name       text NOT NULL,
                price      numeric(12, 2) NOT NULL CHECK (price >= 0),
                created_at timestamptz NOT NULL DEFAULT now())""")
    sampler = start_sampler()
    user = f"bench_pyspark_{uuid.uuid4().hex[:8]}"
    wall, client_mib, stdout = timed([SPARK_PYTHON, os.path.join(HERE, "original_job.py"),
                                      f"s3a://{BUCKET}/products.parquet", PYSPARK_TABLE],
                                     env=dict(with_user(env, user), BENCH_LAUNCH_EPOCH=repr(time.time())))
    sampler.stop()
    fields = dict(kv.split("=") for kv in stdout.split())
    verify(env, "the PySpark job", PYSPARK_TABLE, "", n, expected_sum)
    out = {"wall": wall, "client_mib": client_mib, "load": float(fields["seconds"]),
           "imports": float(fields["import_seconds"]), "connect": float(fields["connect_seconds"])}
    out["startup"] = out["imports"] + out["connect"]
    out.update(jvm(sampler))
    # The jobs of the timed part only (read, transform, JDBC write).
    out["jobs"], out["jobs_busy"], out["foreign_jobs"] = spark_jobs(user, float(fields["start_epoch"]),
                                                                    float(fields["end_epoch"]))
    return out


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def jobs_text(jobs):
    return ", ".join(f"{sec} s/{tasks}/{rows_in:,} → {rows_out:,}" + (f" ({shuffled:,} shuffled)" if shuffled else "")
                     for sec, tasks, rows_in, rows_out, shuffled in jobs)


def prepare_bucket(s3):
    """Creates the bench bucket and writes one small object into it (untimed): SeaweedFS
    allocates a new bucket's volumes on its first write, ~0.2 s that would otherwise land in
    whichever run comes first."""
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=BUCKET, Key="_bench_first_write", Body=b"x" * 65536)
    s3.delete_object(Bucket=BUCKET, Key="_bench_first_write")


def cleanup(env, s3):
    for sql in (f"DELETE FROM spark_upload.products WHERE source = '{SOURCE}'",
                f"DELETE FROM spark_upload.products_rejected WHERE source = '{SOURCE}'",
                f"DROP TABLE IF EXISTS {PYSPARK_TABLE}"):
        try:
            psql(env, sql)
        except SystemExit as e:
            print(f"cleanup (PostgreSQL): {e}", file=sys.stderr)
    remove_bucket(s3, BUCKET)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=1, help="runs of each approach; figures are medians")
    p.add_argument("--datalab", default=os.environ.get("DATALAB_BIN", os.path.join(ROOT, "build", "release", "datalab")))
    p.add_argument("--keep", action="store_true", help="leave the bench bucket, rows and baseline table")
    a = p.parse_args()
    n = a.rows
    env = settings()
    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env.get("AWS_REGION", "us-east-1"))
    load_before = os.getloadavg()
    native, spark, pyspark = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-spark-upload-") as work:
        csv = os.path.join(work, "products.csv")
        t = time.perf_counter()
        expected_sum = generate(csv, n)
        csv_mib = os.path.getsize(csv) / 2**20
        print(f"generated {csv}: {n:,} rows, {csv_mib:.1f} MiB, sum(price) {expected_sum} "
              f"({time.perf_counter() - t:.1f} s); datalab: {a.datalab}", file=sys.stderr, flush=True)
        try:
            prepare_bucket(s3)
            for i in range(a.repeat):
                for runs, run in ((native, lambda: run_datalab(a.datalab, "native", env, csv, work, n, expected_sum)),
                                  (spark, lambda: run_datalab(a.datalab, "spark", env, csv, work, n, expected_sum)),
                                  (pyspark, lambda: run_pyspark(env, n, expected_sum))):
                    runs.append(run())
                    print(f"run {i + 1}: {json.dumps(runs[-1])}", file=sys.stderr, flush=True)
            # The end state: the spark engine's rows and the baseline's table side by side.
            end = [verify(env, "datalab --engine spark (end)", "spark_upload.products", f"WHERE source = '{SOURCE}'",
                          n, expected_sum),
                   verify(env, "the PySpark job (end)", PYSPARK_TABLE, "", n, expected_sum)]
            parquet_mib = s3.head_object(Bucket=BUCKET, Key="products.parquet")["ContentLength"] / 2**20
        finally:
            if not a.keep:
                cleanup(env, s3)
    load_after = os.getloadavg()

    def m(runs, key):
        return median(runs, key)

    def spark_mem(runs):
        return (f"driver {m(runs, 'driver_peak'):.0f} MiB (at start {m(runs, 'driver_before'):.0f}) + "
                f"executor {m(runs, 'executor_peak'):.0f} MiB (at start {m(runs, 'executor_before'):.0f})")

    def row(label, runs, landing, startup, jvms):
        load, wall = m(runs, "load"), m(runs, "wall")
        return (f"| {label} | {n:,} | {landing} | {load:.2f} | {n / load:,.0f} | {startup} | {wall:.2f} | "
                f"{n / wall:,.0f} | {m(runs, 'client_mib'):.0f} MiB | {jvms} |")

    nl, sl, pl = m(native, "load"), m(spark, "load"), m(pyspark, "load")
    nw, sw, pw = m(native, "wall"), m(spark, "wall"), m(pyspark, "wall")
    lines = [
        f"Products CSV: {n:,} rows, {csv_mib:.1f} MiB; landed as products.parquet ({parquet_mib:.1f} MiB) on the S3 "
        f"server. Spark: standalone, 1 worker, {spark[0]['executors']} executor JVM(s), 2 cores. "
        f"{'Median of ' + str(a.repeat) + ' runs each' if a.repeat > 1 else 'One run each'}; "
        f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end "
        f"({os.cpu_count()} cores). Every table checked with psql: {end[0][0]:,} rows, sum(price) {end[0][1]}.",
        "",
        "| approach | rows | CSV → Parquet s | transform + write s | rows/s (transform + write) | start-up s | "
        "wall s | rows/s (wall) | client peak RSS | Spark JVMs peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        row("datalab `--engine native`", native, f"{m(native, 'landing'):.2f}", f"{m(native, 'startup'):.2f}", "—"),
        row("datalab `--engine spark` (C++ Spark Connect client)", spark, f"{m(spark, 'landing'):.2f}",
            f"{m(spark, 'startup'):.2f}", spark_mem(spark)),
        row("original: PySpark job via Spark Connect", pyspark, "(datalab's file)", f"{m(pyspark, 'startup'):.2f}",
            spark_mem(pyspark)),
        "",
        f"- datalab spark engine vs the PySpark job: transform + write **{pl / sl:.2f}×** "
        f"({sl:.2f} s vs {pl:.2f} s); wall {pw / sw:.2f}× ({sw:.2f} s vs {pw:.2f} s; the PySpark wall has no "
        f"CSV → Parquet landing, without it datalab's is {sw - m(spark, 'landing'):.2f} s: "
        f"{pw / (sw - m(spark, 'landing')):.2f}×).",
        f"- datalab native vs the PySpark job: transform + write **{pl / nl:.2f}×** ({nl:.2f} s vs {pl:.2f} s); "
        f"wall {pw / nw:.2f}× ({nw:.2f} s vs {pw:.2f} s; without the landing {nw - m(native, 'landing'):.2f} s: "
        f"{pw / (nw - m(native, 'landing')):.2f}×).",
        f"- Start-up: native {m(native, 'process'):.2f} s (process start and exit outside the run); spark engine "
        f"{m(spark, 'process'):.2f} s process + {m(spark, 'connect'):.2f} s Spark Connect session; PySpark "
        f"{m(pyspark, 'imports'):.2f} s interpreter + pyspark import + {m(pyspark, 'connect'):.2f} s session creation.",
        f"- Spark jobs (Connect UI, last run; seconds/tasks/rows in → out): spark engine {spark[-1]['jobs_busy']:.2f} s "
        f"of its {spark[-1]['load']:.2f} s load in {len(spark[-1]['jobs'])} jobs ({jobs_text(spark[-1]['jobs'])}); "
        f"PySpark {pyspark[-1]['jobs_busy']:.2f} s of its {pyspark[-1]['load']:.2f} s in {len(pyspark[-1]['jobs'])} "
        f"jobs ({jobs_text(pyspark[-1]['jobs'])}).",
    ]
    foreign = max(r["foreign_jobs"] for r in spark + pyspark)
    if foreign > 0:
        lines.append(f"- **Shared cluster**: other Spark Connect users' jobs ran during the timed Spark runs "
                     f"(up to {foreign:.1f} s of job time in one run): the Spark figures are disturbed.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
