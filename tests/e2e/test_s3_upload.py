"""s3_upload end to end: datalab exports PostgreSQL products to products.parquet and to the
Iceberg table main.products; independent clients check the result: pyarrow reads the
Parquet file from the S3 server, pyiceberg opens the table through the PostgreSQL SQL
catalog, psql gives the source rows."""
import decimal
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from conftest import _settings, s3_env

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pafs = pytest.importorskip("pyarrow.fs")
sql_catalog = pytest.importorskip("pyiceberg.catalog.sql")

PRODUCTS = 3000
def own_s3():
    """S3 settings with a bucket and catalog of the test's own: the main job's stay untouched."""
    return dict(s3_env(), S3_BUCKET=f"e2e-{uuid.uuid4().hex[:10]}", S3_CATALOG=f"e2e-{uuid.uuid4().hex[:10]}",
                S3_REGION="us-east-1")


def remove_own_s3(env, psql):
    """Removes what a test made: its bucket with every object, its catalog's entries."""
    try:
        if env.get("S3_ENDPOINT"):
            fs = arrow_fs(env, allow_bucket_deletion=True)
            if fs.get_file_info(env["S3_BUCKET"]).type != pafs.FileType.NotFound:
                fs.delete_dir(env["S3_BUCKET"])
    finally:
        catalog_name = env["S3_CATALOG"].replace("'", "''")
        for table in ("iceberg_tables", "iceberg_namespace_properties"):
            psql.query(f"DELETE FROM {table} WHERE catalog_name = '{catalog_name}'")


@pytest.fixture(scope="module")
def s3(psql):
    env = own_s3()
    yield env
    remove_own_s3(env, psql)


def run_s3_upload(datalab, tmp_path, env, *args, check=True):
    results = tmp_path / f"results-{uuid.uuid4().hex[:6]}.json"
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        out = datalab.run("run", "s3_upload", "--products", str(PRODUCTS), "--orders", "50",
                          "--results", str(results), *args, check=check)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out, (json.loads(results.read_text()) if results.exists() else None)


def arrow_fs(env, **options):
    endpoint = env["S3_ENDPOINT"]
    scheme, _, host = endpoint.partition("://")
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=env["AWS_ACCESS_KEY_ID"],
                             secret_key=env["AWS_SECRET_ACCESS_KEY"], region="us-east-1", **options)


def catalog(env):
    s = _settings()
    props = {"uri": f"postgresql+psycopg2://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['db']}"}
    if env.get("S3_ENDPOINT"):
        props.update({"s3.endpoint": env["S3_ENDPOINT"], "s3.access-key-id": env["AWS_ACCESS_KEY_ID"],
                      "s3.secret-access-key": env["AWS_SECRET_ACCESS_KEY"], "s3.region": "us-east-1"})
    return sql_catalog.SqlCatalog(env["S3_CATALOG"], **props)


def postgres_rows(psql):
    rows = psql.query("SELECT id, name, price::text, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US') "
                      "FROM s3_upload.products ORDER BY id")
    return [(int(i), n, decimal.Decimal(p), t) for i, n, p, t in rows]


def arrow_rows(table):
    table = table.sort_by("id")
    return [(r["id"], r["name"], r["price"], r["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f"))
            for r in table.to_pylist()]


def test_parquet_on_s3_matches_postgres(datalab, psql, s3, tmp_path):
    out, results = run_s3_upload(datalab, tmp_path, s3, "--no-iceberg")
    assert results["rows"] == PRODUCTS and results["bucket_created"] is True
    assert [o["key"] for o in results["objects"]] == ["products.parquet"]
    table = pq.read_table(f"{s3['S3_BUCKET']}/products.parquet", filesystem=arrow_fs(s3))
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("price").type == pa.decimal128(13, 2)
    assert table.schema.field("created_at").type == pa.timestamp("us")
    assert table.num_rows == PRODUCTS
    assert arrow_rows(table) == postgres_rows(psql)
    assert s3["AWS_SECRET_ACCESS_KEY"] not in out.stdout + out.stderr


def test_iceberg_table_through_pyiceberg_append_then_overwrite(datalab, psql, s3, tmp_path):
    _, first = run_s3_upload(datalab, tmp_path, s3)
    expected = postgres_rows(psql)
    table = catalog(s3).load_table("main.products")
    assert table.metadata.format_version == 2
    assert table.metadata_location == first["iceberg"]["metadata_location"]
    assert len(table.metadata.snapshots) == 1
    assert table.current_snapshot().summary.operation.value == "append"
    assert arrow_rows(table.scan().to_arrow()) == expected

    _, second = run_s3_upload(datalab, tmp_path, s3)  # a rerun appends a snapshot
    table = catalog(s3).load_table("main.products")
    assert len(table.metadata.snapshots) == 2 and second["iceberg"]["snapshots"] == 2
    assert table.current_snapshot().parent_snapshot_id == first["iceberg"]["snapshot_id"]
    scanned = table.scan().to_arrow()
    assert scanned.num_rows == 2 * PRODUCTS
    assert sorted(arrow_rows(scanned)) == sorted(expected + expected)
    # The first snapshot still reads as it was (time travel).
    assert table.scan(snapshot_id=first["iceberg"]["snapshot_id"]).to_arrow().num_rows == PRODUCTS
    pointer = psql.query(f"SELECT metadata_location, previous_metadata_location FROM iceberg_tables "
                         f"WHERE catalog_name = '{s3['S3_CATALOG']}' AND table_namespace = 'main' "
                         f"AND table_name = 'products'")
    assert pointer == [[second["iceberg"]["metadata_location"], first["iceberg"]["metadata_location"]]]

    _, third = run_s3_upload(datalab, tmp_path, s3, "--mode", "overwrite")
    table = catalog(s3).load_table("main.products")
    assert len(table.metadata.snapshots) == 3
    assert table.current_snapshot().summary.operation.value == "overwrite"
    assert arrow_rows(table.scan().to_arrow()) == expected
    assert third["iceberg"]["total_records"] == PRODUCTS
    # The overwrite keeps the two files it replaced on record as DELETED, with their own
    # sequence numbers; only the new file is live.
    entries = sorted((e["status"], e["sequence_number"]) for e in table.inspect.entries().to_pylist())
    assert entries == [(1, 3), (2, 1), (2, 2)]
    assert table.inspect.files().num_rows == 1


def test_local_directory_without_endpoint(datalab, psql, tmp_path):
    env = {"S3_ENDPOINT": "", "S3_LOCAL_DIR": str(tmp_path / "store"), "S3_BUCKET": "local-bucket",
           "S3_CATALOG": f"e2e-local-{uuid.uuid4().hex[:8]}"}
    _, results = run_s3_upload(datalab, tmp_path, env)
    path = tmp_path / "store" / "local-bucket" / "products.parquet"
    assert arrow_rows(pq.read_table(path)) == postgres_rows(psql)
    assert results["objects"][0]["uri"] == f"file://{path}"
    try:
        table = catalog(env).load_table("main.products")
        assert table.scan().to_arrow().num_rows == PRODUCTS
    finally:
        remove_own_s3(env, psql)  # the catalog's entries; the folder goes with tmp_path


def test_wrong_credentials_and_missing_endpoint_are_clear(datalab, s3, tmp_path):
    bad = dict(s3, AWS_SECRET_ACCESS_KEY="wrong-secret-5e1b")
    out, _ = run_s3_upload(datalab, tmp_path, bad, check=False)
    assert out.returncode == 3
    assert "refused the credentials" in out.stderr
    assert "wrong-secret-5e1b" not in out.stdout + out.stderr

    down = dict(s3, S3_ENDPOINT="http://127.0.0.1:9")
    out, _ = run_s3_upload(datalab, tmp_path, down, check=False)
    assert out.returncode == 3
    assert "does not answer" in out.stderr
    assert s3["AWS_SECRET_ACCESS_KEY"] not in out.stdout + out.stderr

    nokey = dict(s3, AWS_SECRET_ACCESS_KEY="")
    out, _ = run_s3_upload(datalab, tmp_path, nokey, check=False)
    assert out.returncode == 2
    assert "AWS_SECRET_ACCESS_KEY is empty" in out.stderr


@pytest.fixture
def fresh_s3(psql):
    env = own_s3()
    yield env
    remove_own_s3(env, psql)


def test_iceberg_data_files_carry_column_metrics_that_prune_scans(datalab, psql, fresh_s3, tmp_path):
    env = fresh_s3
    run_s3_upload(datalab, tmp_path, env, "--mode", "overwrite")
    table = catalog(env).load_table("main.products")
    entries = [e for m in table.current_snapshot().manifests(table.io) for e in m.fetch_manifest_entry(table.io)]
    assert len(entries) == 1
    data_file = entries[0].data_file
    ids = {f.name: f.field_id for f in table.schema().fields}
    assert data_file.value_counts[ids["id"]] == PRODUCTS
    assert data_file.null_value_counts[ids["name"]] == 0
    # The bounds are PostgreSQL's min and max, in Iceberg's binary form.
    lo_id, hi_id, lo_price, hi_price = psql.query("SELECT min(id), max(id), min(price), max(price) "
                                                  "FROM s3_upload.products")[0]
    assert int.from_bytes(data_file.lower_bounds[ids["id"]], "little") == int(lo_id)
    assert int.from_bytes(data_file.upper_bounds[ids["id"]], "little") == int(hi_id)
    cents = lambda b: int.from_bytes(b, "big", signed=True)  # noqa: E731 (decimal: unscaled, big-endian)
    assert cents(data_file.lower_bounds[ids["price"]]) == round(float(lo_price) * 100)
    assert cents(data_file.upper_bounds[ids["price"]]) == round(float(hi_price) * 100)
    # Readers skip the file when a filter cannot match it, and still read it when one can.
    assert list(table.scan(row_filter=f"id > {hi_id}").plan_files()) == []
    assert len(list(table.scan(row_filter=f"id <= {lo_id}").plan_files())) == 1
    assert table.scan(row_filter="id <= 10").to_arrow().num_rows == 10


def s3_curl(env, method, path, query=""):
    """A signed S3 request by curl, an independent client (SigV4 by curl itself)."""
    url = env["S3_ENDPOINT"].rstrip("/") + path + (f"?{query}" if query else "")
    out = subprocess.run(["curl", "-s", "-X", method, "--aws-sigv4", "aws:amz:us-east-1:s3",
                          "--user", f"{env['AWS_ACCESS_KEY_ID']}:{env['AWS_SECRET_ACCESS_KEY']}", url],
                         capture_output=True, text=True, check=True)
    return out.stdout


def unfinished_uploads(env):
    xml = s3_curl(env, "GET", f"/{env['S3_BUCKET']}", "prefix=&uploads=")
    assert "<ListMultipartUploadsResult" in xml, xml
    return re.findall(r"<Upload>.*?<Key>(.*?)</Key>.*?</Upload>", xml)


def test_a_killed_upload_leaves_no_unfinished_multipart_upload_after_the_next_run(datalab, fresh_s3, tmp_path):
    env = fresh_s3
    # A run killed while it uploads products.parquet leaves its multipart upload behind.
    proc = subprocess.Popen([datalab.binary, "run", "s3_upload", "--products", "3000000", "--orders", "0",
                             "--no-iceberg"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, **env))
    deadline = time.monotonic() + 120
    try:
        while not (s3_curl(env, "GET", f"/{env['S3_BUCKET']}", "prefix=&uploads=").count("<Upload>")):
            assert proc.poll() is None, "the run ended before its upload could be interrupted"
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert unfinished_uploads(env) == ["products.parquet"]

    # The next run aborts it, says so, and writes a complete file.
    out, results = run_s3_upload(datalab, tmp_path, env, "--no-iceberg")
    assert "aborted an unfinished upload of products.parquet" in out.stdout + out.stderr
    assert unfinished_uploads(env) == []
    assert pq.read_table(f"{env['S3_BUCKET']}/products.parquet", filesystem=arrow_fs(env)).num_rows == PRODUCTS


def test_a_second_run_waits_for_the_first_instead_of_aborting_its_upload(datalab, fresh_s3, tmp_path):
    env = fresh_s3
    first = subprocess.Popen([datalab.binary, "run", "s3_upload", "--products", "3000000", "--orders", "0",
                              "--no-iceberg"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **env))
    try:
        deadline = time.monotonic() + 120
        while not s3_curl(env, "GET", f"/{env['S3_BUCKET']}", "prefix=&uploads=").count("<Upload>"):
            assert first.poll() is None, "the first run ended before its upload began"
            assert time.monotonic() < deadline, "the first run's upload never started"
            time.sleep(0.05)
        # The second run starts while the first uploads: it waits, and the first finishes whole.
        out, _ = run_s3_upload(datalab, tmp_path, env, "--no-iceberg")
        assert "another `datalab run s3_upload` is running on this database; waiting" in out.stdout + out.stderr
        assert first.wait(timeout=300) == 0, first.communicate()[1]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert unfinished_uploads(env) == []
    # The second run came last: its rows are what products.parquet holds.
    assert pq.read_table(f"{env['S3_BUCKET']}/products.parquet", filesystem=arrow_fs(env)).num_rows == PRODUCTS
