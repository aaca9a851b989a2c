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

Three more scenarios (--scenarios picks; default: all four), each side by side in the same run,
each output's row count checked with an independent client:

  csv          CSV -> PostgreSQL: datalab copy FILE.csv "postgres:///?table=bench_copy.csv_target" --create
               against psql \copy bench_copy.csv_limit FROM FILE (FORMAT csv, HEADER) into a pre-created
               table (LIKE the source). The CSV is written once from the source (psql \copy TO), untimed.
               Rows counted with psql.
  clickhouse   PostgreSQL -> ClickHouse: datalab copy … "clickhouse:///default.bench_copy_orders" --create
               against clickhouse-client --query "INSERT INTO default.bench_copy_limit FORMAT Native" < FILE,
               FILE prepared once (untimed) with SELECT * FORMAT Native from a table datalab wrote. Rows
               counted with clickhouse-client (native protocol; datalab talks HTTP).
  iceberg      PostgreSQL -> Iceberg: datalab copy … iceberg://bench/bench_copy.orders_N --create against
               pyiceberg (connectorx -> Arrow -> create_table + append) in the same SQL catalog on the same
               PostgreSQL and S3; the read limit (psql binary COPY to /dev/null) as reference. Rows counted
               from the Parquet footers of the data files pyiceberg's scan plans.

    services/ctl start postgres seaweedfs clickhouse
    ~/.cache/datalab/venv/bin/python bench/copy/run.py [--rows 1000000,10000000] [--repeat 3] [--keep]
        [--scenarios parquet,csv,clickhouse,iceberg]
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


def run_parquet(a, sizes, s3, out):
    """The first scenario: PostgreSQL -> one Parquet object on S3, against the peers and two limits."""
    dl_rss = {}
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


CH = dict(host=ENV.get("CLICKHOUSE_DB_HOST", "localhost"), native_port=ENV.get("CLICKHOUSE_NATIVE_PORT", "10454"),
          user=ENV.get("CLICKHOUSE_USER", "it_one"), password=ENV.get("CLICKHOUSE_PASSWORD", "it_one"))
CH_CLIENT = ["clickhouse-client", "--host", "127.0.0.1" if CH["host"] == "localhost" else CH["host"],
             "--port", CH["native_port"], "--user", CH["user"], "--password", CH["password"]]
CH_TARGET = "default.bench_copy_orders"   # datalab's table
CH_LIMIT = "default.bench_copy_limit"     # the Native insert's table
CH_TEMPLATE = "default.bench_copy_native"  # written once by datalab, untimed: the Native file and the limit's columns
# ClickHouse 18.16 has no DateTime64: datalab refuses timestamptz without a cast to whole seconds
# (the source's created_at has no fractions).
CH_CAST = ["--cast", "created_at=timestamp[s, UTC]"]
ICE_CATALOG = "bench"
ICE_NS = SCHEMA


def ch(sql):
    return subprocess.run(CH_CLIENT + ["-q", sql], check=True, capture_output=True, text=True).stdout.strip()


def pg_count(t):
    return int(psql(f"SELECT count(*) FROM {t}", True))


def ice_catalog():
    sys.path.insert(0, HERE)
    import peers
    return peers.iceberg_catalog(ICE_CATALOG, ENV)


def ice_rows(ident):
    """Rows of an Iceberg table: the Parquet footers (pyarrow) of the data files pyiceberg's scan plans."""
    import pyarrow.parquet as pq
    t = ice_catalog().load_table(ident)
    f = t.io  # pyiceberg's FileIO for the table
    rows = 0
    files = list(t.scan().plan_files())
    for task in files:
        with f.new_input(task.file.file_path).open() as fh:
            rows += pq.ParquetFile(fh).metadata.num_rows
    return rows, len(files)


def ice_drop(s3, ident, prefix):
    """Drops an Iceberg table from the catalog (if there) and deletes its objects under prefix/."""
    cat = ice_catalog()
    try:
        cat.drop_table(ident)
    except Exception:  # noqa: BLE001 (NoSuchTableError: not made yet)
        pass
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=o["Key"])


def read_limit(table):
    return ("limit: psql COPY … TO STDOUT (FORMAT binary) > /dev/null",
            ["sh", "-c", 'exec "$@" > /dev/null', "sh"] + PSQL +
            ["-c", f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)"], ENV, None, None)


def scenario_csv(a, n, table, s3):
    """(approaches, limit label, cleanup) of CSV -> PostgreSQL at size n; prepares the CSV (untimed)."""
    path = f"/tmp/bench-copy-{n}.csv"
    if not os.path.exists(path):
        psql(f"\\copy (SELECT * FROM {table} ORDER BY id) TO '{path}' (FORMAT csv, HEADER)")
    target, limit = f"{SCHEMA}.csv_target", f"{SCHEMA}.csv_limit"

    def reset_dl():
        psql(f"DROP TABLE IF EXISTS {target}")

    def reset_limit():
        psql(f"DROP TABLE IF EXISTS {limit}; CREATE TABLE {limit} (LIKE {table})")

    app = [("datalab", [a.datalab, "copy", path, f"postgres:///?table={target}", "--create"], ENV, reset_dl,
            lambda: (pg_count(target), 1)),
           ("limit: psql \\copy … FROM file (FORMAT csv, HEADER)",
            PSQL + ["-c", f"\\copy {limit} FROM '{path}' (FORMAT csv, HEADER)"], ENV, reset_limit,
            lambda: (pg_count(limit), 1))]

    def cleanup():
        psql(f"DROP TABLE IF EXISTS {target}; DROP TABLE IF EXISTS {limit}")
        csv_mib[n] = os.path.getsize(path) / 2**20
        os.remove(path)
    return app, "limit: psql", cleanup


csv_mib = {}


def scenario_clickhouse(a, n, table, s3):
    path = f"/tmp/bench-copy-{n}.native"
    src = f"postgres:///?table={table}"
    ch(f"DROP TABLE IF EXISTS {CH_TEMPLATE}")
    r = subprocess.run([a.datalab, "copy", src, f"clickhouse:///{CH_TEMPLATE}", "--create"] + CH_CAST, env=ENV,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"datalab copy to {CH_TEMPLATE}: {r.stderr.strip()[-1000:]}")
    with open(path, "wb") as fh:
        subprocess.run(CH_CLIENT + ["-q", f"SELECT * FROM {CH_TEMPLATE} FORMAT Native"], stdout=fh, check=True)

    def count(t):
        return lambda: (int(ch(f"SELECT count() FROM {t}")), 1)

    def reset_limit():
        ch(f"DROP TABLE IF EXISTS {CH_LIMIT}")
        ch(f"CREATE TABLE {CH_LIMIT} AS {CH_TEMPLATE}")

    app = [("datalab", [a.datalab, "copy", src, f"clickhouse:///{CH_TARGET}", "--create"] + CH_CAST, ENV,
            lambda: ch(f"DROP TABLE IF EXISTS {CH_TARGET}"), count(CH_TARGET)),
           ("limit: clickhouse-client INSERT … FORMAT Native < file",
            ["sh", "-c", f'exec "$@" < {path}', "sh"] + CH_CLIENT + ["--query", f"INSERT INTO {CH_LIMIT} FORMAT Native"],
            ENV, reset_limit, count(CH_LIMIT))]

    def cleanup():
        for t in (CH_TARGET, CH_LIMIT, CH_TEMPLATE):
            ch(f"DROP TABLE IF EXISTS {t}")
        native_mib[n] = os.path.getsize(path) / 2**20
        os.remove(path)
    return app, "limit: clickhouse", cleanup


native_mib = {}


def scenario_iceberg(a, n, table, s3):
    env = dict(ENV, S3_BUCKET=BUCKET)
    dl_id, py_id = f"{ICE_NS}.orders_{n}", f"{ICE_NS}.pyiceberg_{n}"
    dl_prefix, py_prefix = f"iceberg_warehouse/{ICE_NS}/orders_{n}", f"pyiceberg/{ICE_NS}/pyiceberg_{n}"
    app = [("datalab", [a.datalab, "copy", f"postgres:///?table={table}", f"iceberg://{ICE_CATALOG}/{dl_id}",
                        "--create"], env, lambda: ice_drop(s3, dl_id, dl_prefix), lambda: ice_rows(dl_id)),
           ("pyiceberg: connectorx → Arrow → create_table + append (1 conn.)",
            [PY, os.path.join(HERE, "peers.py"), "pyiceberg", BUCKET, ICE_CATALOG, py_id, table], env,
            lambda: ice_drop(s3, py_id, py_prefix), lambda: ice_rows(py_id)),
           read_limit(table)]

    def cleanup():
        ice_drop(s3, dl_id, dl_prefix)
        ice_drop(s3, py_id, py_prefix)
    return app, "limit: psql", cleanup


SCENARIOS = {
    "csv": ("CSV → PostgreSQL", scenario_csv),
    "clickhouse": ("PostgreSQL → ClickHouse", scenario_clickhouse),
    "iceberg": ("PostgreSQL → Iceberg", scenario_iceberg),
}


def run_scenario(a, name, sizes, s3, out):
    title, make = SCENARIOS[name]
    out += [f"### {title}", ""]
    dl_rss = {}
    for n in sizes:
        table = table_name(n, sizes[-1])
        app, limit_prefix, cleanup = make(a, n, table, s3)
        res = {x[0]: [] for x in app}
        errors, notes = {}, {}
        load = [os.getloadavg()[0]]
        try:
            for r in range(a.repeat):
                for label, cmd, env, reset, count in app:
                    if label in errors:
                        continue
                    if reset:
                        reset()
                    wall, rss, cpu, stdout, err = run_once(label, cmd, env)
                    load.append(os.getloadavg()[0])
                    if err:
                        errors[label] = err
                        print(f"{name} {n:,} {label}: FAILED\n{err[-1500:]}", file=sys.stderr, flush=True)
                        continue
                    if count:
                        rows, parts = count()
                        if rows != n:
                            errors[label] = f"wrote {rows:,} rows, expected {n:,}"
                            print(f"{name} {n:,} {label}: {errors[label]}", file=sys.stderr, flush=True)
                            continue
                        if parts != 1:
                            notes[label] = f"{parts} data files"
                    res[label].append((wall, rss, cpu))
                    print(f"{name} {n:,} run {r + 1} {label}: {wall:.2f} s, {rss:.0f} MiB, CPU {cpu:.2f} s "
                          f"{stdout.strip()[-200:]}", file=sys.stderr, flush=True)
        finally:
            if not a.keep:
                cleanup()
        med = {k: statistics.median(w for w, _, _ in v) for k, v in res.items() if v}
        peak = {k: max(m for _, m, _ in v) for k, v in res.items() if v}
        cpus = {k: statistics.median(c for _, _, c in v) for k, v in res.items() if v}
        dl = med.get("datalab")
        lim = next((v for k, v in med.items() if k.startswith(limit_prefix)), None)
        dl_rss[n] = peak.get("datalab")
        extra = ""
        if name == "csv" and n in csv_mib:
            extra = f"CSV {csv_mib[n]:.0f} MiB; "
        if name == "clickhouse" and n in native_mib:
            extra = f"Native file {native_mib[n]:.0f} MiB; "
        out += [f"**{n:,} rows** ({extra}1-minute load average {min(load):.2f}–{max(load):.2f})", "",
                "| approach | seconds | rows/s | peak memory | CPU s (user+sys) | time / datalab's | time / limit |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, *_ in app:
            if label in med:
                w = med[label]
                note = f" ({notes[label]})" if label in notes else ""
                ratios = " | ".join("—" if not d else f"{w / d:.2f}×" for d in (dl, lim))
                out.append(f"| {label}{note} | {w:.2f} | {n / w:,.0f} | {peak[label]:.0f} MiB | "
                           f"{cpus[label]:.2f} | {ratios} |")
            else:
                why = errors.get(label, "not run").strip().splitlines()
                out.append(f"| {label} | failed: {' '.join(why[-2:])[:300].replace('|', '/')} | | | | | |")
        out.append("")
    if len(dl_rss) > 1:
        out.append("datalab's peak memory: " + ", ".join(
            f"{v:.0f} MiB at {k:,} rows" for k, v in dl_rss.items() if v is not None) + ".")
        out.append("")


def iceberg_catalog_tables():
    """Which of pyiceberg's SQL-catalog tables exist in PostgreSQL now."""
    have = psql("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public' AND tablename IN "
                "('iceberg_tables', 'iceberg_namespace_properties')", True)
    return set(filter(None, have.split(",")))


def clean_iceberg_catalog(had):
    """Deletes the bench catalog's rows; drops a catalog table the run made when it is empty then."""
    now = iceberg_catalog_tables()
    for t in now:
        psql(f"DELETE FROM public.{t} WHERE catalog_name = '{ICE_CATALOG}'")
        if t not in had and psql(f"SELECT count(*) FROM public.{t}", True) == "0":
            psql(f"DROP TABLE public.{t}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default="1000000,10000000", help="comma-separated table sizes")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--datalab", default="/tmp/bench-bin2/datalab")
    p.add_argument("--recreate", action="store_true", help="generate the source tables again")
    p.add_argument("--keep", action="store_true", help="keep the bench schema, bucket, tables and catalog rows")
    p.add_argument("--only", default="", help="parquet: comma-separated label prefixes to run (debugging)")
    p.add_argument("--scenarios", default="parquet,csv,clickhouse,iceberg",
                   help="comma-separated: parquet (PostgreSQL -> Parquet on S3), csv, clickhouse, iceberg")
    a = p.parse_args()
    scenarios = [x for x in a.scenarios.split(",") if x]
    unknown = [x for x in scenarios if x != "parquet" and x not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}: pick from parquet, {', '.join(SCENARIOS)}")
    sizes = sorted(int(x) for x in a.rows.split(","))
    catalog_had = iceberg_catalog_tables()
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
           f"(peak memory: the highest of the runs), scenarios {', '.join(scenarios)}.", ""]
    try:
        for name in scenarios:
            if name == "parquet":
                run_parquet(a, sizes, s3, out)
            else:
                run_scenario(a, name, sizes, s3, out)
    finally:
        if not a.keep:
            remove_bucket(s3, BUCKET)
            psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            if "iceberg" in scenarios:
                clean_iceberg_catalog(catalog_had)
        for n in sizes:
            for ext in ("parquet", "csv", "native"):
                if os.path.exists(f"/tmp/bench-copy-{n}.{ext}"):
                    os.remove(f"/tmp/bench-copy-{n}.{ext}")
        shutil.rmtree("/tmp/bench-copy-sling", ignore_errors=True)
        ended = datetime.datetime.now(datetime.timezone.utc)
        out.append(f"Ended {ended:%H:%M} UTC.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
