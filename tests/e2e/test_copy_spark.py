"""datalab copy --engine spark: the same copy on the real Spark cluster (Spark Connect at
SPARK_CONNECT_URL) must leave what `--engine native` leaves. Independent clients check: psql
for the tables (an md5 over every row in id order), pyarrow for Parquet on the S3 server."""
import os
import subprocess
import uuid

import pytest

from conftest import ROOT, _settings, assert_no_secret, s3_env
from test_copy_files import ALL_TYPES_DDL, ALL_TYPES_ROWS, ARROW_TYPES, EXPECTED, arrow_s3, rows_by_id

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# Many rows with every kind of value and a NULL in each column now and then.
ROWS_DDL = "(id bigint PRIMARY KEY, name text, amount numeric(12,2), seen timestamptz, day date, score float8, ok bool)"
ROWS_SELECT = """SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE 'name ' || g END,
    CASE WHEN g % 89 = 0 THEN NULL ELSE round(g * 1.37, 2) END,
    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute 1.000001 second',
    date '2020-01-01' + (g % 1000), g / 7.0, g % 3 = 0
    FROM generate_series({start}, {stop}) g"""


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def pg_url(table):
    s = _settings()
    return f"postgres://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['db']}?table={table}"


@pytest.fixture(scope="module")
def s3():
    return dict(s3_env(), S3_REGION="us-east-1")


def copy(datalab, s3, *args, check=True):
    result = subprocess.run([datalab.binary, "copy", *args], capture_output=True, text=True, cwd=ROOT,
                            env=dict(os.environ, **s3), timeout=600)
    assert_no_secret(f"datalab copy {' '.join(args)[:80]}", result.stdout + result.stderr, args)
    if check and result.returncode != 0:
        raise AssertionError(f"datalab copy {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


@pytest.fixture
def schema(psql):
    name = unique("e2e_copy_spark")
    psql.query(f"CREATE SCHEMA {name}")
    yield name
    psql.drop_schema(name)


@pytest.fixture
def bucket(s3):
    name = f"e2e-spark-{uuid.uuid4().hex[:10]}"
    fs = arrow_s3(s3, allow_bucket_creation=True, allow_bucket_deletion=True)
    fs.create_dir(name)
    yield name
    fs.delete_dir(name)


def md5(psql, table):
    return psql.scalar(f"SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY id)), 'empty') FROM {table} t")


def count(psql, table):
    return int(psql.scalar(f"SELECT count(*) FROM {table}"))


def stages_left(psql, schema):
    return psql.query(f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' "
                      "AND tablename LIKE 'datalab_copy_stage%'")


def both_engines(datalab, s3, source, native_target, spark_target, *args):
    copy(datalab, s3, source, native_target, "--engine", "native", *args)
    return copy(datalab, s3, source, spark_target, "--engine", "spark", *args)


def test_postgres_to_postgres_append_replace_and_merge_match_the_native_engine(datalab, s3, psql, schema):
    src, native, spark = f"{schema}.src", f"{schema}.native", f"{schema}.spark"
    for table in (src, native, spark):
        psql.query(f"CREATE TABLE {table} {ROWS_DDL}")
    psql.query(f"INSERT INTO {src} {ROWS_SELECT.format(start=1, stop=20000)}")

    # Append, with --key id: a partitioned read on id's range.
    r = both_engines(datalab, s3, pg_url(src), pg_url(native), pg_url(spark), "--key", "id")
    assert "20000" in r.stdout
    assert md5(psql, spark) == md5(psql, native) == md5(psql, src)

    # Merge: updated rows, new rows, and target rows the source no longer has (kept).
    psql.query(f"DELETE FROM {src} WHERE id > 19000")
    psql.query(f"UPDATE {src} SET name = 'changed ' || id, amount = NULL WHERE id % 10 = 0")
    psql.query(f"INSERT INTO {src} {ROWS_SELECT.format(start=30001, stop=35000)}")
    both_engines(datalab, s3, pg_url(src), pg_url(native), pg_url(spark), "--mode", "merge", "--key", "id")
    assert count(psql, spark) == 25000
    assert md5(psql, spark) == md5(psql, native)
    assert psql.scalar(f"SELECT name FROM {spark} WHERE id = 100") == "changed 100"

    # Replace from a query: only the query's rows are left.
    query_url = pg_url(src).replace(f"table={src}", f"query=SELECT * FROM {src} WHERE id <= 500")
    both_engines(datalab, s3, query_url, pg_url(native), pg_url(spark), "--mode", "replace", "--key", "id")
    assert count(psql, spark) == 500
    assert md5(psql, spark) == md5(psql, native)
    assert stages_left(psql, schema) == []


def test_every_type_and_edge_value_survives_spark_with_create(datalab, s3, psql, schema):
    psql.query(f"CREATE TABLE {schema}.all_types {ALL_TYPES_DDL}")
    psql.query(f"INSERT INTO {schema}.all_types VALUES {ALL_TYPES_ROWS}")
    copy(datalab, s3, pg_url(f"{schema}.all_types"), pg_url(f"{schema}.copied"), "--engine", "spark", "--create",
         "--key", "id")
    assert md5(psql, f"{schema}.copied") == md5(psql, f"{schema}.all_types")
    assert psql.scalar(f"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                       f"'{schema}.copied'::regclass AND attname = 'tstz'") == "timestamp with time zone"


def test_parquet_on_s3_to_postgres_matches_the_native_engine(datalab, s3, psql, schema, bucket):
    fs = arrow_s3(s3)
    table = pa.Table.from_pylist(EXPECTED, schema=pa.schema(list(ARROW_TYPES.items())))
    # A folder of two files, read as a glob.
    pq.write_table(table.slice(0, 2), f"{bucket}/in/part-1.parquet", filesystem=fs)
    pq.write_table(table.slice(2), f"{bucket}/in/part-2.parquet", filesystem=fs)
    for name in ("native", "spark"):
        psql.query(f"CREATE TABLE {schema}.{name} {ALL_TYPES_DDL}")
    both_engines(datalab, s3, f"s3://{bucket}/in/*.parquet", pg_url(f"{schema}.native"), pg_url(f"{schema}.spark"))
    assert count(psql, f"{schema}.spark") == 3
    assert md5(psql, f"{schema}.spark") == md5(psql, f"{schema}.native")

    # A CSV file too: both engines infer the same columns from the text.
    csv_text = "id,name,price\n1,apple,1.25\n2,\"pear, green\",0.5\n3,,\n"
    with fs.open_output_stream(f"{bucket}/csv/fruit.csv") as out:
        out.write(csv_text.encode())
    for name in ("native_csv", "spark_csv"):
        psql.query(f"CREATE TABLE {schema}.{name} (id bigint PRIMARY KEY, name text, price float8)")
    both_engines(datalab, s3, f"s3://{bucket}/csv/fruit.csv", pg_url(f"{schema}.native_csv"),
                 pg_url(f"{schema}.spark_csv"))
    assert md5(psql, f"{schema}.spark_csv") == md5(psql, f"{schema}.native_csv")
    assert count(psql, f"{schema}.spark_csv") == 3


def test_postgres_to_parquet_on_s3_reads_back_as_the_source(datalab, s3, psql, schema, bucket):
    psql.query(f"CREATE TABLE {schema}.all_types {ALL_TYPES_DDL}")
    psql.query(f"INSERT INTO {schema}.all_types VALUES {ALL_TYPES_ROWS}")
    r = copy(datalab, s3, pg_url(f"{schema}.all_types"), f"s3://{bucket}/out/", "--engine", "spark", "--mode",
             "replace", "--key", "id")
    assert " 3 " in r.stdout
    got = pq.read_table(f"{bucket}/out", filesystem=arrow_s3(s3))
    assert {f.name: f.type for f in got.schema} == ARROW_TYPES
    assert rows_by_id(got) == EXPECTED

    # Append adds part files; replace leaves only the new rows.
    copy(datalab, s3, pg_url(f"{schema}.all_types"), f"s3://{bucket}/out/", "--engine", "spark")
    assert pq.read_table(f"{bucket}/out", filesystem=arrow_s3(s3)).num_rows == 6
    copy(datalab, s3, pg_url(f"{schema}.all_types"), f"s3://{bucket}/out/", "--engine", "spark", "--mode", "replace")
    assert rows_by_id(pq.read_table(f"{bucket}/out", filesystem=arrow_s3(s3))) == EXPECTED


def test_a_failing_spark_copy_leaves_the_target_and_no_stage(datalab, s3, psql, schema):
    psql.query(f"CREATE TABLE {schema}.src (id int PRIMARY KEY, amount text, code text)")
    psql.query(f"INSERT INTO {schema}.src SELECT g, g::text, 'c' || (g % 100) FROM generate_series(1, 5000) g")
    psql.query(f"CREATE TABLE {schema}.dst (id int PRIMARY KEY, amount integer, code varchar(3) NOT NULL)")
    psql.query(f"INSERT INTO {schema}.dst VALUES (1, 10, 'a'), (2, 20, 'b')")
    before = md5(psql, f"{schema}.dst")

    def refused(*args):
        r = copy(datalab, s3, pg_url(f"{schema}.src"), pg_url(f"{schema}.dst"), "--engine", "spark", "--key", "id",
                 *args, check=False)
        assert md5(psql, f"{schema}.dst") == before
        assert stages_left(psql, schema) == []
        return r

    # A text column into an integer one: refused before Spark runs, as the native engine does.
    r = refused("--mode", "replace")
    assert r.returncode == 2 and "'amount'" in r.stderr and "integer" in r.stderr, r.stderr

    # A value too long for varchar(3) fails in Spark's write into the stage, part way (other
    # partitions have committed their rows into it).
    psql.query(f"UPDATE {schema}.src SET code = 'too long' WHERE id = 4321")
    for mode in ("replace", "append", "merge"):
        r = refused("--mode", mode, "--cast", "amount=int32")
        assert r.returncode not in (0, 2), r.stderr
        assert "through JDBC failed" in r.stderr, r.stderr

    # A NULL into a NOT NULL column fails in the final move: rolled back, stage dropped.
    psql.query(f"UPDATE {schema}.src SET code = NULL WHERE id = 4321")
    r = refused("--mode", "replace", "--cast", "amount=int32")
    assert r.returncode not in (0, 2) and "code" in r.stderr and "null" in r.stderr.lower(), r.stderr


def test_ends_spark_cannot_reach_are_refused_with_exit_2(datalab, s3, psql, schema, bucket, tmp_path):
    psql.query(f"CREATE TABLE {schema}.t (id int)")
    local = tmp_path / "t.parquet"
    cases = [
        (pg_url(f"{schema}.t"), "clickhouse://default@127.0.0.1:10453/default.t", "ClickHouse"),
        (pg_url(f"{schema}.t"), "iceberg://lake/ns.t", "Iceberg"),
        ("kafka://127.0.0.1:10454/topic", pg_url(f"{schema}.t"), "Kafka"),
        (str(local), pg_url(f"{schema}.t"), "local files"),
        (pg_url(f"{schema}.t"), f"s3://{bucket}/out/", "merge"),
    ]
    for source, target, named in cases:
        extra = ["--mode", "merge", "--key", "id"] if named == "merge" else []
        r = copy(datalab, s3, source, target, "--engine", "spark", *extra, check=False)
        assert r.returncode == 2, r.stderr
        assert named.lower() in r.stderr.lower(), r.stderr
        if named != "merge":
            assert "--engine native" in r.stderr, r.stderr
    r = copy(datalab, s3, pg_url(f"{schema}.t"), pg_url(f"{schema}.u"), "--engine", "flink", check=False)
    assert r.returncode == 2 and "flink" in r.stderr


def test_a_password_reaches_spark_but_no_message(datalab, s3, psql, schema):
    """The JDBC password travels to Spark as an option: neither a report nor a Spark error shows it."""
    role, password = unique("e2e_spark_role"), f"S3cret-{uuid.uuid4().hex[:12]}"
    psql.query(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        psql.query(f"GRANT ALL ON SCHEMA {schema} TO {role}")
        psql.query(f"CREATE TABLE {schema}.src (id int PRIMARY KEY, code text)")
        psql.query(f"INSERT INTO {schema}.src SELECT g, 'c' || g FROM generate_series(1, 100) g")
        psql.query(f"CREATE TABLE {schema}.dst (id int PRIMARY KEY, code varchar(2))")
        psql.query(f"ALTER TABLE {schema}.src OWNER TO {role}; ALTER TABLE {schema}.dst OWNER TO {role}")
        s = _settings()
        url = f"postgres://{role}:{password}@{s['host']}:{s['port']}/{s['db']}?table="
        r = copy(datalab, s3, url + f"{schema}.src", url + f"{schema}.dst", "--engine", "spark", "--key", "id",
                 check=False)  # copy() asserts that no output shows the password
        assert r.returncode not in (0, 2) and "through JDBC failed" in r.stderr, r.stderr
        psql.query(f"ALTER TABLE {schema}.dst ALTER code TYPE text")
        copy(datalab, s3, url + f"{schema}.src", url + f"{schema}.dst", "--engine", "spark", "--key", "id")
        assert count(psql, f"{schema}.dst") == 100
    finally:
        psql.query(f"DROP OWNED BY {role}; DROP ROLE {role}")
