"""copy benchmark (issue 13): `datalab copy` of a PostgreSQL table to one Parquet object on S3,
against its strongest peers and the machine's two limits, side by side in one run:

  datalab      datalab copy "postgres:///?table=bench_copy.orders" s3://BUCKET/datalab.parquet
  duckdb       DuckDB postgres_scanner + httpfs: COPY (SELECT * FROM pg.bench_copy.orders) TO 's3://…'
  connectorx   connectorx.read_sql -> Arrow table -> pyarrow.parquet.write_table to S3 (1 and 2 connections)
  polars       pl.read_database_uri (connectorx engine) -> DataFrame.write_parquet("s3://…") (1 and 2)
  sling        sling run: postgres stream -> s3 parquet, its own Parquet writer (SLING_DUCKDB_COMPUTE=false;
               binary from the PyPI wheel sling-linux-amd64, see sling_env)
  limit: read  psql COPY (SELECT * FROM bench_copy.orders) TO STDOUT (FORMAT binary) > /dev/null
  limit: put   boto3 upload_file (multipart) of datalab's output, downloaded once to /tmp

Every approach runs under GNU time (wall, peak RSS) --repeat times, round-robin; the table
shows the median wall time and the highest peak RSS. Each output's row count is checked
with pyarrow. The source table (10 M rows by default, the smaller sizes as the first N rows
in tables of their own) is generated when missing (--recreate: always); the schema and the
bench bucket are dropped at the end unless --keep.

    services/ctl start postgres seaweedfs
    ~/.cache/datalab/venv/bin/python bench/copy/run.py [--rows 1000000,10000000] [--repeat 3] [--keep]
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from local_s3 import remove_bucket, with_local_services  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
BUCKET = "bench-copy"
SCHEMA = "bench_copy"
ENV = with_local_services(os.environ)
ENV.setdefault("S3_REGION", "us-east-1")
ENV["PGPASSWORD"] = ENV["POSTGRES_PASSWORD"]
ENV["PGOPTIONS"] = "-c client_min_messages=warning"
PSQL = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", ENV["DB_HOST"], "-p", ENV["DB_PORT"],
        "-U", ENV["POSTGRES_USER"], "-d", ENV["POSTGRES_DB"]]


def sling_bin():
    import sling_linux_amd64
    return os.path.join(os.path.dirname(sling_linux_amd64.__file__), "bin", "sling-linux-amd64")


def psql(sql, capture=False):
    r = subprocess.run(PSQL + ["-tA", "-c", sql], env=ENV, check=True, capture_output=capture, text=True)
    return r.stdout.strip() if capture else None


def table_name(n, largest):
    return f"{SCHEMA}.orders" if n == largest else f"{SCHEMA}.orders_{n}"


def make_tables(sizes, recreate):
    largest = max(sizes)
    big = table_name(largest, largest)
    have = psql(f"SELECT count(*) FROM pg_tables WHERE schemaname = '{SCHEMA}' AND tablename = 'orders'", True)
    if recreate or have == "0" or int(psql(f"SELECT count(*) FROM {big}", True)) != largest:
        print(f"generating {big}: {largest:,} rows", file=sys.stderr, flush=True)
        psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        psql(f"""CREATE TABLE {big} (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
                 status text NOT NULL, created_at timestamptz NOT NULL, note text, day date NOT NULL);
                 INSERT INTO {big}
                 SELECT g, 1 + (g * 7919) % 1000000, ((g * 2654435761) % 10000000) / 100.0,
                        (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + g % 5],
                        timestamptz '2024-01-01 00:00:00+00' + g * interval '3 seconds',
                        CASE WHEN g % 50 = 0 THEN NULL ELSE 'note ' || substr(md5(g::text), 1, 25) END,
                        date '2024-01-01' + (g % 1000)::int
                 FROM generate_series(1::bigint, {largest}) g""")
        psql(f"VACUUM ANALYZE {big}")
    for n in sizes:
        t = table_name(n, largest)
        if t != big and (recreate or psql(f"SELECT to_regclass('{t}') IS NULL", True) == "t"
                         or int(psql(f"SELECT count(*) FROM {t}", True)) != n):
            psql(f"DROP TABLE IF EXISTS {t}; CREATE TABLE {t} AS SELECT * FROM {big} WHERE id <= {n} ORDER BY id;"
                 f"ALTER TABLE {t} ADD PRIMARY KEY (id)")
            psql(f"VACUUM ANALYZE {t}")


def s3_client():
    import boto3
    return boto3.client("s3", endpoint_url=ENV["S3_ENDPOINT"], aws_access_key_id=ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=ENV["AWS_SECRET_ACCESS_KEY"], region_name=ENV["S3_REGION"])


def parquet_rows(s3, key):
    """Rows of s3://BUCKET/key read with pyarrow: one object, or every object under key/ (a folder of parts)."""
    import pyarrow.parquet as pq
    from pyarrow import fs
    scheme, host = ENV["S3_ENDPOINT"].split("://", 1)
    f = fs.S3FileSystem(access_key=ENV["AWS_ACCESS_KEY_ID"], secret_key=ENV["AWS_SECRET_ACCESS_KEY"],
                        endpoint_override=host, scheme=scheme, region=ENV["S3_REGION"])
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=key)
            for o in page.get("Contents", []) if o["Key"] == key or o["Key"].startswith(key + "/")]
    rows = 0
    for k in keys:
        with f.open_input_file(f"{BUCKET}/{k}") as fh:
            rows += pq.ParquetFile(fh).metadata.num_rows
    return rows, len(keys)


def sling_env():
    """Sling with its own (Go) Parquet writer: SLING_DUCKDB_COMPUTE=false. By default Sling 1.4.11
    writes Parquet through a DuckDB CLI that it downloads from GitHub at run time (not reachable
    here); with the PyPI duckdb-cli 1.5.5 put in its place (DUCKDB_PATH, httpfs and aws extensions
    from their wheels) it wrote the 10 M rows in 11 batches to one local file, each batch
    overwriting the last, and uploaded an object of 62,003 rows while reporting 10,000,000."""
    home = "/tmp/bench-copy-sling"
    os.makedirs(home, exist_ok=True)
    e = dict(ENV)
    e["SLING_DUCKDB_COMPUTE"] = "false"
    e["SLING_HOME_DIR"] = home
    e["SLING_DISABLE_TELEMETRY"] = "true"
    e["DISABLE_TELEMETRY"] = "true"
    e["SLING_PG"] = ("postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{DB_HOST}:{DB_PORT}/{POSTGRES_DB}"
                     "?sslmode=disable").format(**ENV)
    e["SLING_S3"] = ('{"type": "s3", "bucket": "%s", "access_key_id": "%s", "secret_access_key": "%s", '
                     '"endpoint": "%s", "region": "%s", "use_environment": false}'
                     % (BUCKET, ENV["AWS_ACCESS_KEY_ID"], ENV["AWS_SECRET_ACCESS_KEY"], ENV["S3_ENDPOINT"],
                        ENV["S3_REGION"]))
    return e


def approaches(datalab, table, n, put_file):
    """(label, command, env, output key or None) for each approach at size n."""
    tag = f"{n}"
    a = [("datalab", [datalab, "copy", f"postgres:///?table={table}", f"s3://{BUCKET}/{tag}/datalab.parquet"],
          ENV, f"{tag}/datalab.parquet"),
         ("DuckDB postgres_scanner + httpfs", [PY, os.path.join(HERE, "peers.py"), "duckdb", BUCKET,
                                               f"{tag}/duckdb.parquet", table], ENV, f"{tag}/duckdb.parquet")]
    for p in (1, 2):
        a.append((f"connectorx → pyarrow write_table ({p} conn.)",
                  [PY, os.path.join(HERE, "peers.py"), "connectorx", BUCKET, f"{tag}/cx{p}.parquet", table, str(p)],
                  ENV, f"{tag}/cx{p}.parquet"))
    for p in (1, 2):
        a.append((f"polars read_database_uri → write_parquet ({p} conn.)",
                  [PY, os.path.join(HERE, "peers.py"), "polars", BUCKET, f"{tag}/polars{p}.parquet", table, str(p)],
                  ENV, f"{tag}/polars{p}.parquet"))
    a.append(("Sling postgres → s3 parquet (its Go Parquet writer)",
              [sling_bin(), "run", "--src-conn", "SLING_PG", "--src-stream", table, "--tgt-conn", "SLING_S3",
               "--tgt-object", f"s3://{BUCKET}/{tag}/sling.parquet", "--tgt-options", '{"format": "parquet"}'],
              sling_env(), f"{tag}/sling.parquet"))
    a.append(("limit: psql COPY … TO STDOUT (FORMAT binary) > /dev/null",
              ["sh", "-c", 'exec "$@" > /dev/null', "sh"] + PSQL +
              ["-c", f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)"], ENV, None))
    a.append(("limit: S3 multipart put of datalab's Parquet (boto3)",
              [PY, os.path.join(HERE, "peers.py"), "put", BUCKET, f"{tag}/put.parquet", put_file], ENV,
              f"{tag}/put.parquet"))
    return a


def run_once(label, cmd, env):
    """(wall s, peak RSS MiB, CPU s = user + sys, stdout, error) of cmd under GNU time, as
    gnu_time.timed measures them, plus the CPU time from the same report."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        err = r.stderr.split("Command exited with non-zero status")[0].split("\tCommand being timed")[0]
        return None, None, None, "", err.strip()[-3000:] or r.stderr[-3000:]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", r.stderr).group(1)) for k in ("User", "System"))
    return wall, rss, cpu, r.stdout, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default="1000000,10000000", help="comma-separated table sizes")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--datalab", default="/tmp/bench-bin2/datalab")
    p.add_argument("--recreate", action="store_true", help="generate the source tables again")
    p.add_argument("--keep", action="store_true", help="keep the bench schema and bucket")
    p.add_argument("--only", default="", help="comma-separated label prefixes to run (debugging)")
    a = p.parse_args()
    sizes = sorted(int(x) for x in a.rows.split(","))
    make_tables(sizes, a.recreate)
    s3 = s3_client()
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    except Exception as e:  # noqa: BLE001 (SeaweedFS may answer BucketAlreadyExists)
        if "BucketAlready" not in str(e):
            raise
    started = datetime.datetime.now(datetime.timezone.utc)
    out = [f"Run at {started:%Y-%m-%d %H:%M} UTC, datalab binary {a.datalab}, median of {a.repeat} "
           f"(peak memory: the highest of the runs).", ""]
    dl_rss = {}
    try:
        for n in sizes:
            table = table_name(n, sizes[-1])
            put_file = f"/tmp/bench-copy-{n}.parquet"
            app = approaches(a.datalab, table, n, put_file)
            if a.only:
                app = [x for x in app if x[0] == "datalab" or any(x[0].startswith(o) for o in a.only.split(","))]
            res = {x[0]: [] for x in app}
            errors, notes = {}, {}
            load = [os.getloadavg()[0]]
            for r in range(a.repeat):
                for label, cmd, env, key in app:
                    if label in errors:
                        continue
                    if label.startswith("limit: S3") and not os.path.exists(put_file):
                        errors[label] = "no datalab output to upload"
                        continue
                    if key:  # each approach writes a new object (datalab copy refuses to overwrite a file)
                        s3.delete_object(Bucket=BUCKET, Key=key)
                    wall, rss, cpu, stdout, err = run_once(label, cmd, env)
                    load.append(os.getloadavg()[0])
                    if err:
                        errors[label] = err
                        print(f"{n:,} {label}: FAILED\n{err[-1500:]}", file=sys.stderr, flush=True)
                        continue
                    if key:
                        rows, objects = parquet_rows(s3, key)
                        if rows != n:
                            errors[label] = f"wrote {rows:,} rows in {objects} object(s), expected {n:,}"
                            print(f"{n:,} {label}: {errors[label]}", file=sys.stderr, flush=True)
                            continue
                        if objects != 1:
                            notes[label] = f"{objects} objects"
                    if label == "datalab" and not os.path.exists(put_file):
                        s3.download_file(BUCKET, key, put_file)
                    res[label].append((wall, rss, cpu))
                    print(f"{n:,} run {r + 1} {label}: {wall:.2f} s, {rss:.0f} MiB, CPU {cpu:.2f} s "
                          f"{stdout.strip()[-300:]}",
                          file=sys.stderr, flush=True)
            med = {k: statistics.median(w for w, _, _ in v) for k, v in res.items() if v}
            peak = {k: max(m for _, m, _ in v) for k, v in res.items() if v}
            cpus = {k: statistics.median(c for _, _, c in v) for k, v in res.items() if v}
            dl = med.get("datalab")
            lim_read = next((v for k, v in med.items() if k.startswith("limit: psql")), None)
            lim_put = next((v for k, v in med.items() if k.startswith("limit: S3")), None)
            dl_rss[n] = peak.get("datalab")
            size = os.path.getsize(put_file) / 2**20 if os.path.exists(put_file) else 0
            out += [f"**{n:,} rows** (datalab's Parquet: {size:.0f} MiB; 1-minute load average "
                    f"{min(load):.2f}–{max(load):.2f})", "",
                    "| approach | seconds | rows/s | peak memory | CPU s (user+sys) | time / datalab's | "
                    "time / read limit | time / S3-put limit |",
                    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for label, *_ in app:
                if label in med:
                    w = med[label]
                    note = f" ({notes[label]})" if label in notes else ""
                    ratios = " | ".join("—" if not d else f"{w / d:.2f}×" for d in (dl, lim_read, lim_put))
                    out.append(f"| {label}{note} | {w:.2f} | {n / w:,.0f} | {peak[label]:.0f} MiB | "
                               f"{cpus[label]:.2f} | {ratios} |")
                else:
                    why = errors.get(label, "not run").strip().splitlines()
                    out.append(f"| {label} | failed: {' '.join(why[-2:])[:300].replace('|', '/')} | | | | | | |")
            out.append("")
        if len(dl_rss) > 1:
            out.append("datalab's peak memory: " + ", ".join(
                f"{v:.0f} MiB at {k:,} rows" for k, v in dl_rss.items() if v is not None) + ".")
    finally:
        if not a.keep:
            remove_bucket(s3, BUCKET)
            psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        for n in sizes:
            if os.path.exists(f"/tmp/bench-copy-{n}.parquet"):
                os.remove(f"/tmp/bench-copy-{n}.parquet")
        shutil.rmtree("/tmp/bench-copy-sling", ignore_errors=True)
    print("\n".join(out))


if __name__ == "__main__":
    main()
