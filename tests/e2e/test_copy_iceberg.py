"""datalab copy from PostgreSQL into an Iceberg table, read back by pyiceberg through the
PostgreSQL SQL catalog: every type arrives, append adds a snapshot, replace overwrites, and a
copy that fails leaves the table at its last snapshot. And back out: a table pyiceberg wrote
(several snapshots, an added column) copied into PostgreSQL and Parquet, checked by psql and
pyarrow."""
import decimal
import os
import uuid
from urllib.parse import quote

import pytest

from test_s3_upload import arrow_fs, catalog, own_s3, remove_own_s3

pa = pytest.importorskip("pyarrow")


@pytest.fixture
def s3(psql):
    env = own_s3()
    saved = dict(os.environ)
    os.environ.update(env)
    yield env
    os.environ.clear()
    os.environ.update(saved)
    remove_own_s3(env, psql)


@pytest.fixture
def schema(psql):
    name = "copy_ice_" + uuid.uuid4().hex[:8]
    psql.query(f"CREATE SCHEMA {name}")
    yield name
    psql.drop_schema(name)


def test_postgres_into_iceberg_append_replace_and_failure(datalab, psql, s3, schema):
    psql.query(f"""
        CREATE TABLE {schema}.src (id bigint, small smallint, price numeric(12,2), name text, flag boolean,
          day date, at timestamp, at_tz timestamptz, ratio double precision);
        INSERT INTO {schema}.src VALUES
          (1, -32768, -0.01, 'ünï 😀', true, '1969-12-31', '1969-12-31 23:59:59.999999', '2024-01-01 00:00:00+02', -1.5),
          (2, 32767, 9999999999.99, '', false, '2024-02-29', '2024-02-29 12:00:00', '1900-01-01 00:00:00+00', 1e300),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    target = f"iceberg://{s3['S3_CATALOG']}/{schema}.items"
    source = f"postgres:///?table={schema}.src"
    missing = datalab.run("copy", source, target, check=False)
    assert missing.returncode == 2 and "--create" in missing.stderr

    datalab.run("copy", source, target, "--create")
    table = catalog(s3).load_table(f"{schema}.items")
    rows = table.scan().to_arrow().sort_by("id").to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[0]["small"] == -32768 and rows[1]["small"] == 32767  # smallint widened to Iceberg int
    assert rows[0]["price"] == decimal.Decimal("-0.01") and rows[1]["price"] == decimal.Decimal("9999999999.99")
    assert rows[0]["name"] == "ünï 😀" and rows[1]["name"] == "" and rows[2]["name"] is None
    assert rows[0]["at"].isoformat() == "1969-12-31T23:59:59.999999"
    assert rows[0]["at_tz"].isoformat() == "2023-12-31T22:00:00+00:00"
    assert str(table.schema().find_field("at_tz").field_type) == "timestamptz"

    datalab.run("copy", source, target)
    table = catalog(s3).load_table(f"{schema}.items")
    assert len(table.metadata.snapshots) == 2 and table.scan().to_arrow().num_rows == 6

    datalab.run("copy", source, target, "--mode", "replace")
    table = catalog(s3).load_table(f"{schema}.items")
    assert len(table.metadata.snapshots) == 3 and table.scan().to_arrow().num_rows == 3
    snapshot = table.current_snapshot().snapshot_id

    # A replace whose cast fails on a later row ('x' is not a number) stops before the commit:
    # the table stays at its snapshot, with its rows.
    psql.query(f"INSERT INTO {schema}.src (id, name) VALUES (4, 'x')")
    query = quote(f"SELECT id, CASE WHEN id = 4 THEN 'x' ELSE small::text END AS small, price, name, flag, day, at, "
                  f"at_tz, ratio FROM {schema}.src ORDER BY id")
    failed = datalab.run("copy", f"postgres:///?query={query}", target, "--mode", "replace", "--cast", "small=int32",
                         check=False)
    assert failed.returncode == 2, failed.stderr
    assert "column 'small'" in failed.stderr and "cannot be converted" in failed.stderr
    table = catalog(s3).load_table(f"{schema}.items")
    assert table.current_snapshot().snapshot_id == snapshot and table.scan().to_arrow().num_rows == 3
    assert s3["AWS_SECRET_ACCESS_KEY"] not in failed.stdout + failed.stderr


def test_iceberg_table_written_by_pyiceberg_into_postgres_and_parquet(datalab, psql, s3, schema, tmp_path):
    from pyiceberg.schema import Schema
    from pyiceberg.types import (DateType, DecimalType, LongType, NestedField, StringType, TimestamptzType)
    arrow_fs(s3, allow_bucket_creation=True).create_dir(s3["S3_BUCKET"])
    cat = catalog(s3)
    cat.create_namespace(schema)
    table = cat.create_table(f"{schema}.events", Schema(
        NestedField(1, "id", LongType(), required=False), NestedField(2, "name", StringType(), required=False),
        NestedField(3, "amount", DecimalType(12, 2), required=False),
        NestedField(4, "at", TimestamptzType(), required=False), NestedField(5, "day", DateType(), required=False)),
        location=f"s3://{s3['S3_BUCKET']}/pyiceberg/{schema}/events")
    import datetime
    utc = datetime.timezone.utc
    first = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["ünï 😀", None],
                      "amount": pa.array([decimal.Decimal("-0.01"), None], pa.decimal128(12, 2)),
                      "at": pa.array([datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc), None],
                                     pa.timestamp("us", "UTC")),
                      "day": pa.array([datetime.date(2024, 2, 29), None], pa.date32())})
    table.append(first)
    with table.update_schema() as update:  # a column added after the first snapshot
        update.add_column("note", StringType())
    table = cat.load_table(f"{schema}.events")
    table.append(pa.table({"id": pa.array([3], pa.int64()), "name": ["c"],
                           "amount": pa.array([decimal.Decimal("9999999999.99")], pa.decimal128(12, 2)),
                           "at": pa.array([None], pa.timestamp("us", "UTC")), "day": pa.array([None], pa.date32()),
                           "note": ["later"]}))
    assert len(cat.load_table(f"{schema}.events").metadata.snapshots) == 2

    source = f"iceberg://{s3['S3_CATALOG']}/{schema}.events"
    datalab.run("copy", source, f"postgres:///?table={schema}.events", "--create")
    rows = psql.query(f"SELECT id, coalesce(name, '<null>'), coalesce(amount::text, '<null>'), "
                      f"coalesce(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'), "
                      f"coalesce(day::text, '<null>'), coalesce(note, '<null>') FROM {schema}.events ORDER BY id")
    assert rows == [["1", "ünï 😀", "-0.01", "1969-12-31 23:59:59.999999", "2024-02-29", "<null>"],
                    ["2", "<null>", "<null>", "<null>", "<null>", "<null>"],
                    ["3", "c", "9999999999.99", "<null>", "<null>", "later"]]
    types = dict(psql.query(f"SELECT column_name, data_type FROM information_schema.columns "
                            f"WHERE table_schema = '{schema}' AND table_name = 'events'"))
    assert types["amount"] == "numeric" and types["at"] == "timestamp with time zone" and types["day"] == "date"

    out = tmp_path / "events.parquet"
    datalab.run("copy", source, str(out))
    import pyarrow.parquet as pq
    copied = pq.read_table(out).sort_by("id")
    assert copied.column("id").to_pylist() == [1, 2, 3]
    assert copied.column("note").to_pylist() == [None, None, "later"]
    assert copied.schema.field("amount").type == pa.decimal128(12, 2)

    missing = datalab.run("copy", f"iceberg://{s3['S3_CATALOG']}/{schema}.nothing", str(tmp_path / "x.parquet"),
                          check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr, missing.stderr
    incremental = datalab.run("copy", source, f"postgres:///?table={schema}.events", "--incremental", "--cursor",
                              "id", check=False)
    assert incremental.returncode == 2 and "--incremental needs a PostgreSQL or ClickHouse source" in incremental.stderr


def test_incremental_copies_into_iceberg_commit_the_watermark_with_the_rows(datalab, psql, s3, schema):
    psql.cursor_table(f"{schema}.src", 3000000)
    target = f"iceberg://{s3['S3_CATALOG']}/{schema}.inc"
    args = ["copy", f"postgres:///?table={schema}.src", target, "--create", "--incremental", "--cursor",
            "updated_at", "--key", "id"]
    # Killed part way: no snapshot, so no rows and no watermark.
    datalab.run_killed(*args)
    assert psql.scalar(f"SELECT count(*) FROM iceberg_tables WHERE catalog_name = '{s3['S3_CATALOG']}' "
                       f"AND table_name = 'inc' AND metadata_location IS NOT NULL") == "0"

    first = datalab.json(*args)[0]["summary"]
    assert first["rows"] == "3000000" and first["rows with a NULL cursor (not copied)"] == "1"
    last_cursor = psql.scalar(f"SELECT max(updated_at) FROM {schema}.src")
    psql.query(f"""INSERT INTO {schema}.src VALUES
        (3000001, '{last_cursor}', 'tie'), (3000002, '{last_cursor}'::timestamptz + interval '1 hour', 'later'),
        (3000003, '2023-01-01', 'late arrival')""")
    second = datalab.json(*args)[0]["summary"]
    assert second["rows"] == "2" and second["watermark before"] != "(none: every row)"
    assert datalab.json(*args)[0]["summary"]["rows"] == "0"
    table = catalog(s3).load_table(f"{schema}.inc")
    ids = table.scan(selected_fields=("id",)).to_arrow().column("id")
    assert len(ids) == 3000002 and pa.compute.count_distinct(ids).as_py() == 3000002
    assert pa.compute.min(ids).as_py() == 1 and pa.compute.max(ids).as_py() == 3000002
    summary = table.current_snapshot().summary
    assert any(k.startswith("datalab.watermark ") for k in summary.additional_properties)

    other = datalab.run(*args[:-4], "--cursor", "id", "--incremental", check=False)
    assert other.returncode == 2 and "holds a watermark for this source taken with --cursor updated_at" in other.stderr
