"""`datalab reset MODULE` against the real services: it removes exactly what the module created
(schemas, tables, objects, topics, catalog entries) and leaves everything beside it, checked with
psql, kcat, clickhouse-client and pyarrow's S3 client."""
import json
import os
import subprocess
import uuid

import pytest

from clickhouse_support import NativeClient
from conftest import s3_env

pafs = pytest.importorskip("pyarrow.fs")
BOOTSTRAP = os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092")


def reset(datalab, module, *args, env=None):
    result = subprocess.run([datalab.binary, "--format", "json", "reset", module, *args], capture_output=True,
                            text=True, timeout=300, env=dict(os.environ, **(env or {})))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)[0]["rows"]
    return {(row["kind"], row["name"]): row["result"] for row in rows}


def schema_exists(psql, schema):
    return psql.scalar(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'") == "1"


def topics():
    listing = json.loads(subprocess.run(["kcat", "-b", BOOTSTRAP, "-L", "-J"], capture_output=True, text=True,
                                        check=True, timeout=60).stdout)
    return {t["topic"] for t in listing["topics"]}


def test_reset_drops_the_modules_schema_and_nothing_beside_it(datalab, psql):
    datalab.run("run", "library")
    datalab.run("run", "partition")
    psql.query("CREATE SCHEMA IF NOT EXISTS reset_bystander; CREATE TABLE IF NOT EXISTS reset_bystander.t (id int)")
    try:
        assert reset(datalab, "library", "--dry-run") == {("postgres schema", "library"): "would remove"}
        assert schema_exists(psql, "library")
        assert reset(datalab, "library") == {("postgres schema", "library"): "removed"}
        assert not schema_exists(psql, "library")
        assert schema_exists(psql, "partition") and schema_exists(psql, "reset_bystander")
        assert psql.scalar("SELECT count(*) FROM partition.orders") != "0"
        assert reset(datalab, "library") == {("postgres schema", "library"): "absent"}
    finally:
        psql.query("DROP SCHEMA IF EXISTS reset_bystander CASCADE")
        datalab.run("run", "library")  # as the main job leaves it


def test_reset_deletes_the_pipelines_topics_and_schema_only(datalab, psql):
    topic = f"reset-test-{uuid.uuid4().hex[:8]}"
    env = {"KAFKA_TOPIC": topic}
    run = subprocess.run([datalab.binary, "run", "kafka_pipeline", "--flights", "100"], capture_output=True,
                         text=True, env=dict(os.environ, **env), timeout=300)
    assert run.returncode == 0, run.stderr
    datalab.run("kafka", "topics")  # the default topics exist beside the test's
    try:
        assert {topic, topic + ".dlq", "it-one", "it-one.dlq"} <= topics()
        assert reset(datalab, "kafka_pipeline", env=env) == {
            ("kafka topic", topic): "removed", ("kafka topic", topic + ".dlq"): "removed",
            ("postgres schema", "kafka_pipeline"): "removed"}
        left = topics()
        assert topic not in left and topic + ".dlq" not in left
        assert {"it-one", "it-one.dlq"} <= left
        assert not schema_exists(psql, "kafka_pipeline")
    finally:
        for t in (topic, topic + ".dlq"):
            subprocess.run([os.path.join(os.path.dirname(__file__), "..", "..", "services", "kafka.sh"), "topics",
                            "--delete", "--topic", t], capture_output=True, timeout=120)
        datalab.run("run", "kafka_pipeline")


def test_reset_removes_the_uploads_objects_and_catalog_entry_and_keeps_other_objects(datalab, psql, tmp_path):
    env = dict(s3_env(), S3_BUCKET=f"e2e-{uuid.uuid4().hex[:10]}", S3_CATALOG=f"e2e-{uuid.uuid4().hex[:10]}",
               S3_REGION="us-east-1")
    fs = pafs.S3FileSystem(access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"],
                           endpoint_override=env["S3_ENDPOINT"], region="us-east-1", allow_bucket_deletion=True)
    def upload():
        subprocess.run([datalab.binary, "run", "s3_upload", "--products", "200", "--orders", "10",
                        "--results", str(tmp_path / "results.json")], check=True, capture_output=True,
                       env=dict(os.environ, **env), timeout=300)

    try:
        upload()
        with fs.open_output_stream(f"{env['S3_BUCKET']}/bystander/keep.txt") as f:
            f.write(b"not the module's")
        before = [i.path for i in fs.get_file_info(pafs.FileSelector(env["S3_BUCKET"], recursive=True))
                  if i.type == pafs.FileType.File]
        warehouse = [p for p in before if "/iceberg_warehouse/main/products/" in p]
        assert warehouse and f"{env['S3_BUCKET']}/products.parquet" in before

        result = reset(datalab, "s3_upload", env=env)
        catalog = f"{env['S3_CATALOG']}.main.products"
        assert result[("iceberg table", catalog)] == "removed"
        assert result[("objects", f"{env['S3_BUCKET']}/products.parquet (1 object)")] == "removed"
        assert result[("objects", f"{env['S3_BUCKET']}/iceberg_warehouse/main/products/ "
                                  f"({len(warehouse)} objects)")] == "removed"
        assert result[("postgres schema", "s3_upload")] == "removed"
        after = [i.path for i in fs.get_file_info(pafs.FileSelector(env["S3_BUCKET"], recursive=True))
                 if i.type == pafs.FileType.File]
        assert after == [f"{env['S3_BUCKET']}/bystander/keep.txt"]
        assert psql.scalar(f"SELECT count(*) FROM iceberg_tables WHERE catalog_name = '{env['S3_CATALOG']}'") == "0"
    finally:
        upload()  # the s3_upload schema as a run leaves it; then the test's bucket and catalog go
        if fs.get_file_info(env["S3_BUCKET"]).type != pafs.FileType.NotFound:
            fs.delete_dir(env["S3_BUCKET"])
        for table in ("iceberg_tables", "iceberg_namespace_properties"):
            psql.query(f"DELETE FROM {table} WHERE catalog_name = '{env['S3_CATALOG']}'")


def test_reset_drops_the_web_logs_tables_and_views_and_keeps_other_tables(datalab):
    clickhouse = NativeClient()
    datalab.run("run", "clickhouse", "--rows", "20000")
    clickhouse.query("CREATE TABLE IF NOT EXISTS reset_bystander (id UInt32) ENGINE = Memory")
    try:
        result = reset(datalab, "clickhouse")
        assert len(result) == 9 and set(result.values()) == {"removed"}
        left = {row[0] for row in clickhouse.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()")}
        assert not {name for name in left if name.startswith("web_logs")}
        assert "reset_bystander" in left
    finally:
        clickhouse.query("DROP TABLE IF EXISTS reset_bystander")
        datalab.run("run", "clickhouse", "--rows", "20000")
