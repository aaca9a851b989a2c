"""datalab copy with files at one end: Parquet, CSV and JSON Lines, local and on S3, to and
from PostgreSQL. Independent clients check every result: pyarrow reads the files (from the
S3 server through its own S3 client), psql the tables, curl lists unfinished S3 uploads."""
import datetime
import decimal
import os
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import ROOT, _settings, s3_env

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")
pjson = pytest.importorskip("pyarrow.json")
pafs = pytest.importorskip("pyarrow.fs")

UTC = datetime.timezone.utc

# The all-types table: edge values of each type, and a row of NULLs.
ALL_TYPES_DDL = """(id int PRIMARY KEY, i16 smallint, i32 integer, i64 bigint, f4 real, f8 double precision,
    dec numeric(20,4), b boolean, t text, d date, ts timestamp, tstz timestamptz)"""
ALL_TYPES_ROWS = """
    (1, -32768, -2147483648, -9223372036854775808, -1.5, -1e300, -1234567890123456.7891, true, '',
     '1969-07-20', '1969-07-20 20:17:40.123456', '1960-01-01 00:00:00+05'),
    (2, 32767, 2147483647, 9223372036854775807, 3.25, 1e-300, 0.0001, false,
     E'😀 émoji "quoted", comma\\nnew line', '2038-01-19', '2999-12-31 23:59:59.999999',
     '2024-02-29 23:59:59.999999+00'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"""
EMOJI_TEXT = '😀 émoji "quoted", comma\nnew line'
EXPECTED = [
    {"id": 1, "i16": -32768, "i32": -2**31, "i64": -2**63, "f4": -1.5, "f8": -1e300,
     "dec": decimal.Decimal("-1234567890123456.7891"), "b": True, "t": "", "d": datetime.date(1969, 7, 20),
     "ts": datetime.datetime(1969, 7, 20, 20, 17, 40, 123456),
     "tstz": datetime.datetime(1959, 12, 31, 19, 0, tzinfo=UTC)},
    {"id": 2, "i16": 32767, "i32": 2**31 - 1, "i64": 2**63 - 1, "f4": 3.25, "f8": 1e-300,
     "dec": decimal.Decimal("0.0001"), "b": False, "t": EMOJI_TEXT, "d": datetime.date(2038, 1, 19),
     "ts": datetime.datetime(2999, 12, 31, 23, 59, 59, 999999),
     "tstz": datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)},
    {"id": 3, **{k: None for k in ("i16", "i32", "i64", "f4", "f8", "dec", "b", "t", "d", "ts", "tstz")}},
]
ARROW_TYPES = {"id": pa.int32(), "i16": pa.int16(), "i32": pa.int32(), "i64": pa.int64(), "f4": pa.float32(),
               "f8": pa.float64(), "dec": pa.decimal128(20, 4), "b": pa.bool_(), "t": pa.string(),
               "d": pa.date32(), "ts": pa.timestamp("us"), "tstz": pa.timestamp("us", tz="UTC")}
PG_TYPES = {"id": "integer", "i16": "smallint", "i32": "integer", "i64": "bigint", "f4": "real",
            "f8": "double precision", "dec": "numeric(20,4)", "b": "boolean", "t": "text", "d": "date",
            "ts": "timestamp without time zone", "tstz": "timestamp with time zone"}


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def postgres_url(table):
    s = _settings()
    return f"postgres://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['db']}?table={table}"


@pytest.fixture(scope="module")
def s3():
    return dict(s3_env(), S3_REGION="us-east-1")


def arrow_s3(env, **options):
    scheme, _, host = env["S3_ENDPOINT"].partition("://")
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=env["AWS_ACCESS_KEY_ID"],
                             secret_key=env["AWS_SECRET_ACCESS_KEY"], region="us-east-1", **options)


@pytest.fixture
def bucket(s3):
    """A bucket of the test's own, removed with every object in it."""
    name = f"e2e-copy-{uuid.uuid4().hex[:10]}"
    fs = arrow_s3(s3, allow_bucket_creation=True, allow_bucket_deletion=True)
    fs.create_dir(name)
    yield name
    fs.delete_dir(name)


@pytest.fixture
def schema(psql):
    name = unique("e2e_copy_files")
    psql.query(f"CREATE SCHEMA {name}")
    yield name
    psql.drop_schema(name)


@pytest.fixture
def folder():
    path = tempfile.mkdtemp(prefix="e2e-copy-files-")
    yield path
    shutil.rmtree(path)


def copy(datalab, s3, *args, check=True):
    env = dict(os.environ, **s3)
    result = subprocess.run([datalab.binary, "copy", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"datalab copy {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def all_types_table(psql, schema):
    psql.query(f"CREATE TABLE {schema}.all_types {ALL_TYPES_DDL}")
    psql.query(f"INSERT INTO {schema}.all_types VALUES {ALL_TYPES_ROWS}")
    return f"{schema}.all_types"


def rows_by_id(table):
    return sorted(table.to_pylist(), key=lambda r: r["id"])


def pg_types(psql, schema, table):
    return dict(psql.query(f"SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                           f"WHERE a.attrelid = '{schema}.{table}'::regclass AND a.attnum > 0"))


def pg_all_types_rows(psql, table):
    """The all-types rows as psql prints them (text hex-encoded: it holds a line break)."""
    return psql.query(f"SELECT id, i16, i32, i64, f4, f8, dec, b, encode(convert_to(t, 'UTF8'), 'hex'), d, "
                      f"to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'), "
                      f"to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM {table} ORDER BY id")


def expected_psql_rows():
    def hex_of(text):
        return "" if text is None else text.encode().hex()
    return [
        ["1", "-32768", "-2147483648", "-9223372036854775808", "-1.5", "-1e+300", "-1234567890123456.7891", "t",
         hex_of(""), "1969-07-20", "1969-07-20 20:17:40.123456", "1959-12-31 19:00:00.000000"],
        ["2", "32767", "2147483647", "9223372036854775807", "3.25", "1e-300", "0.0001", "f", hex_of(EMOJI_TEXT),
         "2038-01-19", "2999-12-31 23:59:59.999999", "2024-02-29 23:59:59.999999"],
        ["3"] + [""] * 11,
    ]


def unfinished_uploads(s3, bucket):
    """The bucket's multipart uploads that were neither completed nor aborted, by curl."""
    out = subprocess.run(["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
                          f"{s3['AWS_ACCESS_KEY_ID']}:{s3['AWS_SECRET_ACCESS_KEY']}",
                          f"{s3['S3_ENDPOINT']}/{bucket}?uploads="], capture_output=True, text=True, check=True)
    return re.findall(r"<Upload>.*?<Key>(.*?)</Key>", out.stdout)


def test_postgres_to_parquet_on_s3_keeps_every_type(datalab, s3, psql, schema, bucket):
    table = all_types_table(psql, schema)
    copy(datalab, s3, postgres_url(table), f"s3://{bucket}/out/all_types.parquet")
    got = pq.read_table(f"{bucket}/out/all_types.parquet", filesystem=arrow_s3(s3))
    assert {f.name: f.type for f in got.schema} == ARROW_TYPES
    assert rows_by_id(got) == EXPECTED
    assert unfinished_uploads(s3, bucket) == []


def test_parquet_on_s3_to_postgres_with_create(datalab, s3, psql, schema, bucket):
    written = pa.Table.from_pylist(EXPECTED, schema=pa.schema(list(ARROW_TYPES.items())))
    pq.write_table(written, f"{bucket}/in/all_types.parquet", filesystem=arrow_s3(s3))
    copy(datalab, s3, f"s3://{bucket}/in/all_types.parquet", postgres_url(f"{schema}.copied"), "--create")
    assert pg_types(psql, schema, "copied") == PG_TYPES
    assert pg_all_types_rows(psql, f"{schema}.copied") == expected_psql_rows()


def test_csv_to_postgres_infers_types(datalab, s3, psql, schema, folder):
    path = os.path.join(folder, "people.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write('id,name,score,active,born,seen\n'
                '1,"Ann ""the first"", 😀",1.5,true,1970-01-01,2024-05-01 10:00:00.000001\n'
                '2,"",-2.25,false,1969-12-31,1960-01-01 00:00:00\n'
                '3,,,,,\n'
                '4,NA,0,true,2000-02-29,2024-05-01 10:00:00\n')
    copy(datalab, s3, path, postgres_url(f"{schema}.people"), "--create")
    assert pg_types(psql, schema, "people") == {
        "id": "bigint", "name": "text", "score": "double precision", "active": "boolean", "born": "date",
        "seen": "timestamp without time zone"}
    rows = psql.query(f"SELECT id, coalesce(name, '<null>'), score, active, born, "
                      f"to_char(seen, 'YYYY-MM-DD HH24:MI:SS.US') FROM {schema}.people ORDER BY id")
    assert rows == [
        ["1", 'Ann "the first", 😀', "1.5", "t", "1970-01-01", "2024-05-01 10:00:00.000001"],
        ["2", "", "-2.25", "f", "1969-12-31", "1960-01-01 00:00:00.000000"],
        ["3", "<null>", "", "", "", ""],
        ["4", "NA", "0", "t", "2000-02-29", "2024-05-01 10:00:00.000000"],
    ]


def test_csv_into_an_existing_table_is_read_with_the_tables_types(datalab, s3, psql, schema, folder):
    # Inferred alone, these columns would be bigint, double and text: the table's integer,
    # numeric(12,2) and timestamptz type them instead, exactly, as psql's \copy would.
    psql.query(f"CREATE TABLE {schema}.orders (id integer, amount numeric(12,2), at timestamptz, code smallint, "
               f"note text)")
    path = os.path.join(folder, "orders.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,amount,at,code,note\n"
                "1,0.10,2024-05-01 10:00:00.000001+02,7,12\n"
                "2,9999999999.99,1969-12-31 23:59:59Z,-32768,\n"
                "3,,,,x\n")
    copy(datalab, s3, path, postgres_url(f"{schema}.orders"))
    rows = psql.query(f"SET TimeZone = 'UTC'; SELECT id, coalesce(amount::text, '<null>'), coalesce(at::text, '<null>'), "
                      f"coalesce(code::text, '<null>'), coalesce(note, '<null>') FROM {schema}.orders ORDER BY id")
    assert rows[0] == ["SET"]  # psql echoes the SET
    assert rows[1:] == [["1", "0.10", "2024-05-01 08:00:00.000001+00", "7", "12"],
                        ["2", "9999999999.99", "1969-12-31 23:59:59+00", "-32768", "<null>"],
                        ["3", "<null>", "<null>", "<null>", "x"]]
    # A value that does not parse as the table's type names the column.
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,amount,at,code,note\n4,1.5,2024-05-01 10:00:00Z,70000,y\n")
    failed = copy(datalab, s3, path, postgres_url(f"{schema}.orders"), check=False)
    assert failed.returncode == 2 and "code" in failed.stderr, failed.stderr
    assert psql.scalar(f"SELECT count(*) FROM {schema}.orders") == "3"


def test_postgres_to_csv_and_jsonl(datalab, s3, psql, schema, folder):
    table = all_types_table(psql, schema)
    csv_path, jsonl_path = os.path.join(folder, "all.csv"), os.path.join(folder, "all.jsonl")
    copy(datalab, s3, postgres_url(table), csv_path)
    copy(datalab, s3, postgres_url(table), jsonl_path)
    assert sorted(os.listdir(folder)) == ["all.csv", "all.jsonl"]  # no temporary file left

    # CSV has no types: pyarrow infers them (decimals come back as double; timestamps are
    # named, as pyarrow infers nanoseconds, which end in 2262); an unquoted empty field is
    # NULL, a quoted one the empty string.
    got = rows_by_id(pcsv.read_csv(csv_path, convert_options=pcsv.ConvertOptions(
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,
        column_types={"ts": pa.timestamp("us"), "tstz": pa.timestamp("us", tz="UTC")})))
    for row, want in zip(got, EXPECTED):
        for column in ("id", "i16", "i32", "i64", "f4", "f8", "b", "t", "d"):
            assert row[column] == want[column], column
        assert row["dec"] == (None if want["dec"] is None else float(want["dec"]))
        for column in ("ts", "tstz"):  # ISO text, read back by pyarrow as timestamps
            assert row[column] == want[column], column

    got = rows_by_id(pjson.read_json(jsonl_path))
    for row, want in zip(got, EXPECTED):
        for column in ("id", "i16", "i32", "i64", "f4", "f8", "b", "t"):
            assert row[column] == want[column], column
        assert row["dec"] == (None if want["dec"] is None else float(want["dec"]))
    assert [r["ts"] for r in got] == ["1969-07-20 20:17:40.123456", "2999-12-31 23:59:59.999999", None]
    assert [r["tstz"] for r in got] == ["1959-12-31 19:00:00.000000Z", "2024-02-29 23:59:59.999999Z", None]
    with open(jsonl_path, encoding="utf-8") as f:
        assert '"dec":-1234567890123456.7891' in f.readline()  # decimals exact, as JSON numbers


def write_parts(fs_path, filesystem, parts, rows_per_part):
    for p in range(parts):
        ids = list(range(p * rows_per_part + 1, (p + 1) * rows_per_part + 1))
        part = pa.table({"id": pa.array(ids, pa.int64()), "name": [f"n{i}" for i in ids]})
        pq.write_table(part, f"{fs_path}/part-{p}.parquet", filesystem=filesystem)


def test_folder_and_glob_of_parquet_to_postgres(datalab, s3, psql, schema, folder, bucket):
    write_parts(folder, pafs.LocalFileSystem(), 3, 1000)
    open(os.path.join(folder, "_SUCCESS"), "w").close()  # what Spark leaves: not data
    copy(datalab, s3, os.path.join(folder, "*.parquet"), postgres_url(f"{schema}.parts"), "--create")
    assert psql.query(f"SELECT count(*), sum(id), count(DISTINCT name) FROM {schema}.parts") == [
        ["3000", str(3000 * 3001 // 2), "3000"]]

    write_parts(f"{bucket}/parts", arrow_s3(s3), 2, 500)
    copy(datalab, s3, f"s3://{bucket}/parts/", postgres_url(f"{schema}.s3_parts"), "--create")
    assert psql.scalar(f"SELECT count(*) FROM {schema}.s3_parts") == "1000"
    copy(datalab, s3, f"s3://{bucket}/parts/part-1*.parquet", postgres_url(f"{schema}.s3_glob"), "--create")
    assert psql.query(f"SELECT count(*), min(id) FROM {schema}.s3_glob") == [["500", "501"]]

    # A file whose columns differ stops the copy, named, and the table keeps its rows.
    pq.write_table(pa.table({"id": pa.array([1], pa.int32())}), os.path.join(folder, "z.parquet"))
    result = copy(datalab, s3, os.path.join(folder, "*.parquet"), postgres_url(f"{schema}.parts"), check=False)
    assert result.returncode == 2, result.stderr
    assert "z.parquet" in result.stderr and "part-0.parquet" in result.stderr
    assert psql.scalar(f"SELECT count(*) FROM {schema}.parts") == "3000"


def test_csv_files_of_a_set_must_share_columns(datalab, s3, psql, schema, folder):
    with open(os.path.join(folder, "a.csv"), "w") as f:
        f.write("id,name\n1,x\n")
    with open(os.path.join(folder, "b.csv"), "w") as f:
        f.write("id,title\n2,y\n")
    result = copy(datalab, s3, folder + "/", postgres_url(f"{schema}.t"), "--create", check=False)
    assert result.returncode == 2, result.stderr
    assert "b.csv" in result.stderr and "title" in result.stderr


def test_failed_replace_keeps_the_old_s3_object(datalab, s3, psql, schema, bucket):
    # 600k rows of random text (tens of MB of Parquet, so the upload has parts before the
    # failure); the last row's v is not a number, so --cast v=int64 fails on the last batch.
    psql.query(f"CREATE TABLE {schema}.big AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS payload, "
               f"CASE WHEN g = 600000 THEN 'oops' ELSE g::text END AS v FROM generate_series(1, 600000) g")
    fs = arrow_s3(s3)
    old = pa.table({"id": [1, 2], "note": ["old", "object"]})
    pq.write_table(old, f"{bucket}/out.parquet", filesystem=fs)
    result = copy(datalab, s3, postgres_url(f"{schema}.big"), f"s3://{bucket}/out.parquet", "--mode", "replace",
                  "--cast", "v=int64", check=False)
    assert result.returncode == 2, result.stderr
    assert "'oops'" in result.stderr and "column 'v'" in result.stderr
    assert pq.read_table(f"{bucket}/out.parquet", filesystem=fs).equals(old)
    assert unfinished_uploads(s3, bucket) == []

    # The same copy without the bad row replaces the object.
    psql.query(f"UPDATE {schema}.big SET v = '600000' WHERE id = 600000")
    copy(datalab, s3, postgres_url(f"{schema}.big"), f"s3://{bucket}/out.parquet", "--mode", "replace",
         "--cast", "v=int64")
    replaced = pq.read_table(f"{bucket}/out.parquet", filesystem=fs, columns=["v"])
    assert replaced.num_rows == 600000 and replaced.schema.field("v").type == pa.int64()


def test_failed_local_replace_keeps_the_old_file(datalab, s3, psql, schema, folder):
    psql.query(f"CREATE TABLE {schema}.t AS SELECT g AS id, CASE WHEN g = 200000 THEN 'oops' ELSE g::text END AS v "
               f"FROM generate_series(1, 200000) g")
    path = os.path.join(folder, "t.csv")
    with open(path, "w") as f:
        f.write("id,v\n1,1\n")
    result = copy(datalab, s3, postgres_url(f"{schema}.t"), path, "--mode", "replace", "--cast", "v=int64",
                  check=False)
    assert result.returncode == 2, result.stderr
    assert open(path).read() == "id,v\n1,1\n"
    assert os.listdir(folder) == ["t.csv"]  # the temporary file is gone

    psql.query(f"UPDATE {schema}.t SET v = '200000' WHERE id = 200000")
    copy(datalab, s3, postgres_url(f"{schema}.t"), path, "--mode", "replace", "--cast", "v=int64")
    got = pcsv.read_csv(path)
    assert got.num_rows == 200000 and got.schema.field("v").type == pa.int64()


def test_append_onto_an_existing_file_is_refused(datalab, s3, psql, schema, folder, bucket):
    table = all_types_table(psql, schema)
    path = os.path.join(folder, "all.parquet")
    copy(datalab, s3, postgres_url(table), path)
    before = open(path, "rb").read()
    result = copy(datalab, s3, postgres_url(table), path, check=False)
    assert result.returncode == 2, result.stderr
    assert "exists already" in result.stderr and "--mode replace" in result.stderr
    assert open(path, "rb").read() == before

    copy(datalab, s3, postgres_url(table), f"s3://{bucket}/all.parquet")
    result = copy(datalab, s3, postgres_url(table), f"s3://{bucket}/all.parquet", "--mode", "append", check=False)
    assert result.returncode == 2 and "exists already" in result.stderr, result.stderr


def test_folder_target_adds_files_and_replace_swaps_them(datalab, s3, psql, schema, bucket):
    table = all_types_table(psql, schema)
    fs = arrow_s3(s3)
    target = f"s3://{bucket}/exports/"
    copy(datalab, s3, postgres_url(table), target)
    copy(datalab, s3, postgres_url(table), target)
    names = [i.base_name for i in fs.get_file_info(pafs.FileSelector(f"{bucket}/exports"))]
    assert len(names) == 2 and all(re.fullmatch(r"part-\d{8}T\d{6}Z-[0-9a-f]{8}\.parquet", n) for n in names)
    assert pq.read_table(f"{bucket}/exports", filesystem=fs).num_rows == 6

    copy(datalab, s3, postgres_url(table), target, "--mode", "replace")
    left = [i.path for i in fs.get_file_info(pafs.FileSelector(f"{bucket}/exports"))]
    assert len(left) == 1 and pq.read_table(left[0], filesystem=fs).num_rows == 3


def test_bad_requests_are_refused_clearly(datalab, s3, psql, schema, folder, bucket):
    missing = os.path.join(folder, "missing.parquet")
    result = copy(datalab, s3, missing, postgres_url(f"{schema}.t"), "--create", check=False)
    assert result.returncode == 2 and "missing.parquet" in result.stderr and "does not exist" in result.stderr

    result = copy(datalab, s3, f"s3://{bucket}/nope.csv", postgres_url(f"{schema}.t"), "--create", check=False)
    assert result.returncode == 2 and f"s3://{bucket}/nope.csv" in result.stderr, result.stderr

    table = all_types_table(psql, schema)
    result = copy(datalab, s3, postgres_url(table), os.path.join(folder, "x.parquet"), "--mode", "merge",
                  "--key", "id", check=False)
    assert result.returncode == 2 and "merge" in result.stderr, result.stderr

    pq.write_table(pa.table({"id": [1]}), os.path.join(folder, "in.parquet"))
    result = copy(datalab, s3, os.path.join(folder, "in.parquet"), postgres_url(f"{schema}.t"), "--create",
                  "--incremental", "--cursor", "id", check=False)
    assert result.returncode == 2 and "--incremental" in result.stderr, result.stderr

    psql.query(f"CREATE TABLE {schema}.bin AS SELECT 1 AS id, '\\xdead'::bytea AS blob")
    result = copy(datalab, s3, postgres_url(f"{schema}.bin"), os.path.join(folder, "bin.csv"), check=False)
    assert result.returncode == 2 and "'blob'" in result.stderr and "binary" in result.stderr, result.stderr
    assert not os.path.exists(os.path.join(folder, "bin.csv"))
    assert s3["AWS_SECRET_ACCESS_KEY"] not in result.stderr


def test_jsonl_to_postgres(datalab, s3, psql, schema, folder):
    path = os.path.join(folder, "events.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"id": 1, "kind": "click", "value": 1.5, "ok": true, "note": null}\n'
                '{"id": 2, "kind": "😀\\n\\"x\\"", "value": -3, "ok": false, "note": ""}\n'
                '{"id": 3, "kind": null, "value": null, "ok": null}\n')
    copy(datalab, s3, path, postgres_url(f"{schema}.events"), "--create")
    assert pg_types(psql, schema, "events") == {
        "id": "bigint", "kind": "text", "value": "double precision", "ok": "boolean", "note": "text"}
    rows = psql.query(f"SELECT id, encode(convert_to(coalesce(kind, '<null>'), 'UTF8'), 'hex'), value, ok, "
                      f"coalesce(note, '<null>') FROM {schema}.events ORDER BY id")
    assert rows == [["1", "click".encode().hex(), "1.5", "t", "<null>"],
                    ["2", '😀\n"x"'.encode().hex(), "-3", "f", ""],
                    ["3", "<null>".encode().hex(), "", "", "<null>"]]


def copied_rows(result):
    import json
    return next(s["summary"] for s in json.loads(result.stdout) if "summary" in s)["rows"]


def test_incremental_copies_into_a_parquet_folder_keep_the_watermark_in_each_part(datalab, s3, psql, schema, folder,
                                                                                  bucket):
    rows = 2000000
    psql.cursor_table(f"{schema}.src", rows)
    fs = arrow_s3(s3)
    local = os.path.join(folder, "out")
    ends = [(local + "/", lambda: sorted(n for n in os.listdir(local) if n.endswith(".parquet") and n[0] != ".")
             if os.path.exists(local) else [],
             lambda: pq.read_table(local)),
            (f"s3://{bucket}/out/", lambda: sorted(i.base_name for i in fs.get_file_info(
                pafs.FileSelector(f"{bucket}/out", allow_not_found=True)) if i.base_name.endswith(".parquet")),
             lambda: pq.read_table(f"{bucket}/out", filesystem=fs))]
    for number, (target, parts, read) in enumerate(ends):
        args = [postgres_url(f"{schema}.src"), target, "--incremental", "--cursor", "updated_at", "--key", "id",
                "--format", "json"]
        if number == 0:  # killed part way: no part file appears, so nothing is counted as copied
            datalab.run_killed("copy", *args[:-2], after=0.5)
            assert parts() == []
        assert copied_rows(copy(datalab, s3, *args)) == str(rows + number * 2)  # not the row with a NULL cursor
        last = psql.scalar(f"SELECT max(updated_at) FROM {schema}.src")
        psql.query(f"""INSERT INTO {schema}.src VALUES ({rows + 1 + number * 10}, '{last}', 'tie'),
            ({rows + 2 + number * 10}, '{last}'::timestamptz + interval '1 hour', 'later')""")
        assert copied_rows(copy(datalab, s3, *args)) == "2"
        assert copied_rows(copy(datalab, s3, *args)) == "0"
        assert len(parts()) == 2  # a run with nothing new adds no file
        ids = read().column("id").to_pylist()
        assert len(ids) == len(set(ids)) == rows + 2 + number * 2 and 0 not in ids

        other = copy(datalab, s3, *args[:-4], "--format", "json", check=False)  # without --key
        assert other.returncode == 2 and "taken with --cursor updated_at --key id" in other.stderr, other.stderr
    result = copy(datalab, s3, postgres_url(f"{schema}.src"), os.path.join(folder, "csv") + "/*.csv", "--incremental",
                  "--cursor", "updated_at", check=False)
    assert result.returncode == 2 and "needs a Parquet folder" in result.stderr, result.stderr
