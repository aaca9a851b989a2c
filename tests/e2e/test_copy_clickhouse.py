"""datalab copy from PostgreSQL into ClickHouse, checked with psql and clickhouse-client (an
independent client on the native port): every type arrives exactly, a timestamp ClickHouse
18.16 cannot hold (µs) or a date before 1970 is refused naming the column, append adds,
replace and merge are all or nothing for readers and a failed one leaves the old rows and no
twin table; an incremental copy out of ClickHouse moves only the rows past the watermark."""
import contextlib
import threading
import time
import uuid
from decimal import Decimal

import pytest

from clickhouse_support import NativeClient, http_query

PG = "postgres:///?table="
CH = "clickhouse:///it_one."


@pytest.fixture(scope="module")
def ch():
    return NativeClient()


@pytest.fixture
def names(psql, ch):
    """A fresh PostgreSQL schema and a prefix for ClickHouse tables; both dropped afterwards."""
    tag = "copy_ch_" + uuid.uuid4().hex[:8]
    psql.query(f"CREATE SCHEMA {tag}")
    yield tag
    psql.drop_schema(tag)
    for (table,) in ch.query(f"SELECT name FROM system.tables WHERE database = 'it_one' AND name LIKE '{tag}%'"):
        ch.query(f"DROP TABLE it_one.`{table}`")


def ch_tables(ch, prefix):
    return sorted(r[0] for r in ch.query(f"SELECT name FROM system.tables WHERE database = 'it_one' "
                                         f"AND name LIKE '{prefix}%'"))


@contextlib.contextmanager
def concurrent_reader(query):
    """Runs `query` over HTTP every 10 ms while the block runs; yields (answers seen, errors)."""
    seen, errors, stop = set(), [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.add(http_query(query).strip())
            except Exception as e:  # noqa: BLE001 - a reader must never see the table missing
                errors.append(str(e))
            time.sleep(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        yield seen, errors
    finally:
        stop.set()
        reader.join()


# (column, PostgreSQL expression, ClickHouse expression): each pair prints the same text. Dates
# and times as numbers: 18.16 prints day 0 as 0000-00-00, and its toString garbles big Decimal128s.
COLUMNS = [
    ("id", "id::text", "id"),
    ("small", "small::text", "small"),
    ("big", "big::text", "big"),
    ("price", "price::text", "price"),
    ("cents", "cents::text", "cents"),
    ("name", "upper(encode(convert_to(name, 'UTF8'), 'hex'))", "hex(name)"),
    ("flag", "CASE WHEN flag THEN '1' WHEN NOT flag THEN '0' END", "flag"),
    ("day", "(day - date '1970-01-01')::text", "toUInt16(day)"),
    ("at", "extract(epoch FROM at)::bigint::text", "toUnixTimestamp(at)"),
    ("at_tz", "extract(epoch FROM at_tz)::bigint::text", "toUnixTimestamp(at_tz)"),
]
FLOATS = ["real_v", "double_v"]


def test_postgres_to_clickhouse_with_create_keeps_every_value_exactly(datalab, psql, ch, names):
    psql.query(f"""
        CREATE TABLE {names}.src (id integer, small smallint, big bigint, real_v real, double_v double precision,
          price numeric(38,10), cents numeric(12,2), name text, flag boolean, day date, at timestamp,
          at_tz timestamptz);
        INSERT INTO {names}.src VALUES
          (1, -32768, -9223372036854775808, -3.4e38, 5e-324, -9999999999999999999999999999.9999999999, -0.01,
           '', true, '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00'),
          (2, 32767, 9223372036854775807, 1.5, -1.7976931348623157e308, 0.0000000001, 9999999999.99,
           E'tab\\there\\nnew line "quoted" \\\\ back ''single'' 😀 ünï', false, '2149-06-06',
           '2024-02-29 12:00:00', '2038-01-19 03:14:08+05'),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    target = f"{CH}{names}_dst"
    refused = datalab.run("copy", f"{PG}{names}.src", target, "--create", check=False)
    assert refused.returncode == 2, refused.stderr
    # The first column ClickHouse cannot hold is named, with both types and the cast to use.
    assert "column 'at'" in refused.stderr and "timestamp[us]" in refused.stderr, refused.stderr
    assert "DateTime" in refused.stderr and "--cast at=timestamp[s]" in refused.stderr
    assert ch_tables(ch, names) == []

    report = datalab.json("copy", f"{PG}{names}.src", target, "--create", "--key", "id",
                          "--cast", "at=timestamp[s]", "--cast", "at_tz=timestamp[s, UTC]")
    assert report[0]["summary"]["rows"] == "3"
    types = dict(ch.query(f"SELECT name, type FROM system.columns WHERE database = 'it_one' "
                          f"AND table = '{names}_dst'"))
    assert types["id"] == "Int32"  # the sorting key is not Nullable
    assert types["price"] == "Nullable(Decimal(38, 10))" and types["cents"] == "Nullable(Decimal(12, 2))"
    assert types["at"] == "Nullable(DateTime)" and types["flag"] == "Nullable(UInt8)"
    assert types["day"] == "Nullable(Date)" and types["name"] == "Nullable(String)"
    assert ch.scalar(f"SELECT engine FROM system.tables WHERE database = 'it_one' AND name = '{names}_dst'") == \
        "MergeTree"

    pg_rows = psql.query("SELECT " + ", ".join(f"coalesce({pg}, 'NULL')" for _, pg, _ in COLUMNS) +
                         f" FROM {names}.src ORDER BY id")
    ch_rows = [["NULL" if v == "\\N" else v for v in row]
               for row in ch.query("SELECT " + ", ".join(c for _, _, c in COLUMNS) + f" FROM it_one.{names}_dst ORDER BY id")]
    assert ch_rows == pg_rows
    assert ch_rows[0][3] == "-9999999999999999999999999999.9999999999" and ch_rows[1][3] == "0.0000000001"
    # Floats compared as numbers: both servers print the shortest text that reads back exactly.
    pg_floats = psql.query(f"SELECT {', '.join(FLOATS)} FROM {names}.src ORDER BY id")
    ch_floats = ch.query(f"SELECT {', '.join(FLOATS)} FROM it_one.{names}_dst ORDER BY id")
    assert [[float(v) for v in row] for row in ch_floats[:2]] == [[float(v) for v in row] for row in pg_floats[:2]]
    assert ch_floats[2] == ["\\N", "\\N"] and pg_floats[2] == ["", ""]

    # And back: ClickHouse -> PostgreSQL gives the same values (times as the whole seconds stored;
    # the UInt8 flag cast to smallint, as PostgreSQL has no unsigned types).
    datalab.run("copy", target, f"{PG}{names}.back", "--create", "--cast", "flag=int16")
    back = [pg if column != "flag" else "flag::text" for column, pg, _ in COLUMNS]
    assert psql.query("SELECT " + ", ".join(f"coalesce({e}, 'NULL')" for e in back) +
                      f" FROM {names}.back ORDER BY id") == pg_rows
    assert psql.query(f"SELECT {', '.join(FLOATS)} FROM {names}.back ORDER BY id") == pg_floats


def test_append_twice_doubles_the_rows_and_widens_into_the_tables_types(datalab, psql, ch, names):
    psql.query(f"CREATE TABLE {names}.src AS SELECT g AS id, g * 2 AS v, 'r' || g AS label "
               "FROM generate_series(1, 100000) g")
    # Other column order, wider types and a column the source lacks (it gets its default).
    ch.query(f"CREATE TABLE it_one.{names}_dst (label String, extra UInt8 DEFAULT 7, v Int64, "
             "id Nullable(Int64)) ENGINE = MergeTree ORDER BY tuple()")
    for _ in range(2):
        datalab.run("copy", f"{PG}{names}.src", f"{CH}{names}_dst")
    assert ch.query(f"SELECT count(), uniqExact(id), sum(v), min(extra), max(extra) FROM it_one.{names}_dst") == \
        [["200000", "100000", str(2 * 100000 * 100001), "7", "7"]]
    assert ch.scalar(f"SELECT label FROM it_one.{names}_dst WHERE id = 99999 LIMIT 1") == "r99999"


def test_replace_shows_readers_the_old_rows_or_the_new_and_cleans_up(datalab, psql, ch, names):
    psql.query(f"CREATE TABLE {names}.src AS SELECT g AS id, md5(g::text) AS payload "
               "FROM generate_series(1, 400000) g")
    ch.query(f"CREATE TABLE it_one.{names}_dst (id Int32, payload String) ENGINE = MergeTree ORDER BY id")
    ch.query(f"INSERT INTO it_one.{names}_dst SELECT toInt32(number), 'old' FROM numbers(10)")
    with concurrent_reader(f"SELECT count() FROM {names}_dst") as (seen, errors):
        datalab.run("copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--mode", "replace")
    assert errors == []
    assert seen <= {"10", "400000"}, seen
    assert ch.scalar(f"SELECT count() FROM it_one.{names}_dst") == "400000"
    assert ch_tables(ch, names) == [f"{names}_dst"]


def test_a_replace_that_fails_part_way_leaves_the_old_rows_and_no_new_table(datalab, psql, ch, names):
    # Row 150000 (in the third batch) has a fraction of a second, which DateTime cannot hold.
    psql.query(f"CREATE TABLE {names}.src AS SELECT g AS id, timestamp '2024-01-01' + g * interval '1 second' "
               "+ CASE WHEN g = 150000 THEN interval '0.5 second' ELSE interval '0' END AS at "
               "FROM generate_series(1, 200000) g")
    ch.query(f"CREATE TABLE it_one.{names}_dst (id Int32, at DateTime) ENGINE = MergeTree ORDER BY id")
    ch.query(f"INSERT INTO it_one.{names}_dst VALUES (7, '2020-01-01 00:00:00')")
    failed = datalab.run("copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--mode", "replace",
                         "--cast", "at=timestamp[s]", "--cast", "id=int32", check=False)
    assert failed.returncode == 2, failed.stderr
    assert "column 'at'" in failed.stderr and "cannot be converted" in failed.stderr
    assert ch.query(f"SELECT id FROM it_one.{names}_dst") == [["7"]]
    assert ch_tables(ch, names) == [f"{names}_dst"]


def test_refusals_name_what_is_wrong_and_write_nothing(datalab, psql, ch, names):
    psql.query(f"""
        CREATE TABLE {names}.src (id bigint, label text, born date);
        INSERT INTO {names}.src VALUES (1, 'a', '2000-01-01'), (2, 'b', '1969-12-31')""")
    src = f"{PG}{names}.src"
    missing = datalab.run("copy", src, f"{CH}{names}_nowhere", check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "--create" in missing.stderr

    # A date before 1970 does not wrap: the column and rows are named, the table made for it dropped.
    early = datalab.run("copy", src, f"{CH}{names}_dates", "--create", check=False)
    assert early.returncode == 2, early.stderr
    assert "column 'born'" in early.stderr and "1969-12-31" in early.stderr and "rows 1-2" in early.stderr
    assert ch_tables(ch, names) == []

    ch.query(f"CREATE TABLE it_one.{names}_dst (id Int32, label String) ENGINE = MergeTree ORDER BY id")
    narrow = datalab.run("copy", f"postgres:///?query=SELECT%20id,%20label%20FROM%20{names}.src",
                         f"{CH}{names}_dst", check=False)
    assert narrow.returncode == 2
    assert "column 'id'" in narrow.stderr and "int64" in narrow.stderr and "Int32" in narrow.stderr
    extra = datalab.run("copy", src, f"{CH}{names}_dst", "--cast", "id=int32", check=False)
    assert extra.returncode == 2 and "'born' is not in" in extra.stderr
    assert ch.scalar(f"SELECT count() FROM it_one.{names}_dst") == "0"

    # With the cast the values go in.
    datalab.run("copy", f"postgres:///?query=SELECT%20id,%20label%20FROM%20{names}.src", f"{CH}{names}_dst",
                "--cast", "id=int32")
    assert ch.query(f"SELECT id, label FROM it_one.{names}_dst ORDER BY id") == [["1", "a"], ["2", "b"]]


def test_merge_upserts_by_key_for_readers_at_once_and_refuses_what_it_cannot_do(datalab, psql, ch, names):
    psql.query(f"""
        CREATE TABLE {names}.src (id bigint, region text, amount numeric(12,2), label text);
        INSERT INTO {names}.src SELECT g, 'eu', g / 100.0, 'new ' || g FROM generate_series(5001, 15000) g;
        INSERT INTO {names}.src VALUES (1, 'us', 0.01, 'updated one')""")
    ch.query(f"CREATE TABLE it_one.{names}_dst (id Int64, region String, amount Decimal(12, 2), label String) "
             "ENGINE = MergeTree ORDER BY id")
    ch.query(f"INSERT INTO it_one.{names}_dst SELECT toInt64(number + 1), 'eu', toDecimal64(0, 2), "
             f"concat('old ', toString(number + 1)) FROM numbers(10000)")
    with concurrent_reader(f"SELECT count(), countIf(label LIKE 'new%') FROM {names}_dst") as (seen, errors):
        report = datalab.json("copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--mode", "merge", "--key", "id")
    assert report[0]["summary"]["rows"] == "10001"
    assert errors == []
    # Readers saw the 10,000 old rows or the merged 15,000 (5,000 of them updated), nothing between.
    assert seen <= {"10000\t0", "15000\t10000"}, seen
    assert ch.query(f"SELECT count(), uniqExact(id), countIf(label LIKE 'old%'), countIf(label LIKE 'new%'), "
                    f"sum(amount) FROM it_one.{names}_dst") == \
        [["15000", "15000", "4999", "10000", str(Decimal(sum(range(5001, 15001))) / 100 + Decimal("0.01"))]]
    assert ch.query(f"SELECT region, amount, label FROM it_one.{names}_dst WHERE id IN (1, 2, 5001) ORDER BY id") == \
        [["us", "0.01", "updated one"], ["eu", "0.00", "old 2"], ["eu", "50.01", "new 5001"]]
    assert ch_tables(ch, names) == [f"{names}_dst"]

    # A key twice in the source: refused, nothing changes, no twin table is left.
    psql.query(f"INSERT INTO {names}.src VALUES (2, 'us', 1, 'first'), (2, 'us', 2, 'second')")
    before = ch.query(f"SELECT count(), sum(amount) FROM it_one.{names}_dst")
    twice = datalab.run("copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--mode", "merge", "--key", "id",
                        check=False)
    assert twice.returncode != 0 and "occur more than once" in twice.stderr, twice.stderr
    assert ch.query(f"SELECT count(), sum(amount) FROM it_one.{names}_dst") == before
    assert ch_tables(ch, names) == [f"{names}_dst"]

    # A source without one of the table's columns would blank it in the rows it updates: refused.
    narrow = datalab.run("copy", f"postgres:///?query=SELECT%20id,%20region,%20amount%20FROM%20{names}.src",
                         f"{CH}{names}_dst", "--mode", "merge", "--key", "id", check=False)
    assert narrow.returncode == 2 and "column 'label' is not in the source" in narrow.stderr, narrow.stderr
    nokey = datalab.run("copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--mode", "merge", check=False)
    assert nokey.returncode == 2 and "--key" in nokey.stderr
    assert ch.query(f"SELECT count(), sum(amount) FROM it_one.{names}_dst") == before


def test_an_incremental_copy_from_clickhouse_moves_only_rows_past_the_watermark(datalab, psql, ch, names):
    # 1,000 rows per second of cursor: the key breaks the ties, also across runs and blocks.
    ch.query(f"CREATE TABLE it_one.{names}_src (id Int64, updated_at Nullable(DateTime), amount Decimal(12, 2), "
             "v String) ENGINE = MergeTree ORDER BY id")
    ch.query(f"INSERT INTO it_one.{names}_src SELECT toInt64(number + 1), "
             "toDateTime(1704067200 + intDiv(number + 1, 1000)), toDecimal64(number, 2) / 100, toString(number) "
             "FROM numbers(200000)")
    ch.query(f"INSERT INTO it_one.{names}_src VALUES (0, NULL, 0, 'no cursor')")
    args = ["copy", f"{CH}{names}_src", f"{PG}{names}.dst", "--create", "--incremental", "--cursor", "updated_at",
            "--key", "id"]
    first = datalab.json(*args)[0]["summary"]
    assert first["rows"] == "200000"
    assert first["rows with a NULL cursor (not copied)"] == "1"
    # Ties with the watermark (same second, larger id), a later row, and one earlier than the
    # watermark (never copied: an incremental copy only moves forward).
    last = ch.scalar(f"SELECT toUnixTimestamp(max(updated_at)) FROM it_one.{names}_src")
    ch.query(f"INSERT INTO it_one.{names}_src VALUES (200001, toDateTime({last}), 1.5, 'tie'), "
             f"(200002, toDateTime({last} + 3600), 2.5, 'later'), (200003, toDateTime(1600000000), 3.5, 'late')")
    second = datalab.json(*args)[0]["summary"]
    assert second["rows"] == "2"
    assert datalab.json(*args)[0]["summary"]["rows"] == "0"
    assert psql.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id), sum(amount) FROM {names}.dst") == [
        ["200002", "200002", "1", "200002", str(Decimal(sum(range(200000))) / 100 + Decimal("4.00"))]]
    assert psql.query(f"SELECT v, updated_at FROM {names}.dst WHERE id IN (1, 200002) ORDER BY id") == [
        ["0", "2024-01-01 00:00:00"], ["later", psql.scalar(f"SELECT timestamp '2024-01-01' + "
                                                             f"({last} + 3600 - 1704067200) * interval '1 second'")]]
    # A cursor of a type that cannot be compared as a watermark is refused before any row.
    ch.query(f"CREATE TABLE it_one.{names}_floats (id Int64, score Float64) ENGINE = MergeTree ORDER BY id")
    ch.query(f"INSERT INTO it_one.{names}_floats VALUES (1, 0.5)")
    refused = datalab.run("copy", f"{CH}{names}_floats", f"{PG}{names}.floats", "--create", "--incremental",
                          "--cursor", "score", check=False)
    assert refused.returncode == 2 and "column 'score' (double)" in refused.stderr, refused.stderr
    assert psql.scalar(f"SELECT to_regclass('{names}.floats') IS NULL") == "t"


def test_an_incremental_copy_into_clickhouse_killed_part_way_loses_and_repeats_nothing(datalab, psql, ch, names):
    psql.cursor_table(f"{names}.src", 2000000)
    ch.query(f"CREATE TABLE it_one.{names}_dst (id Int64, updated_at DateTime, v String) ENGINE = MergeTree "
             "ORDER BY id")
    args = ["copy", f"{PG}{names}.src", f"{CH}{names}_dst", "--incremental", "--cursor", "updated_at", "--key", "id",
            "--cast", "updated_at=timestamp[s, UTC]"]
    datalab.run_killed(*args)
    # The killed run's rows were still in the twin table: the table has none of them.
    assert ch.scalar(f"SELECT count() FROM it_one.{names}_dst") == "0"

    first = datalab.json(*args)[0]["summary"]
    assert first["rows"] == "2000000"
    assert first["rows with a NULL cursor (not copied)"] == "1"
    assert ch_tables(ch, names) == [f"{names}_dst"]
    # Ties with the table's last row (same second, larger id), a later row, and one earlier
    # (never copied: an incremental copy only moves forward).
    last = psql.scalar(f"SELECT max(updated_at) FROM {names}.src")
    psql.query(f"""INSERT INTO {names}.src VALUES (2000001, '{last}', 'tie'),
        (2000002, '{last}'::timestamptz + interval '1 hour', 'later'), (2000003, '2023-01-01', 'late arrival')""")
    assert datalab.json(*args)[0]["summary"]["rows"] == "2"
    assert datalab.json(*args)[0]["summary"]["rows"] == "0"
    assert ch.query(f"SELECT count(), uniqExact(id), min(id), max(id) FROM it_one.{names}_dst") == [
        ["2000002", "2000002", "1", "2000002"]]

    # The watermark is the table's own largest (cursor, key): rows put there by another load
    # are where the next run starts.
    ch.query(f"INSERT INTO it_one.{names}_dst VALUES (3000000, toDateTime('2030-01-01 00:00:00', 'UTC'), 'ahead')")
    psql.query(f"INSERT INTO {names}.src VALUES (2000004, '2029-12-31', 'behind'), (3000001, '2030-01-02', 'after')")
    assert datalab.json(*args)[0]["summary"]["rows"] == "1"
    assert ch.query(f"SELECT countIf(v = 'after'), countIf(v = 'behind') FROM it_one.{names}_dst") == [["1", "0"]]

    # A partitioned table would take the new rows partition by partition: refused, nothing written.
    ch.query(f"CREATE TABLE it_one.{names}_parts (id Int64, updated_at DateTime, v String) ENGINE = MergeTree "
             "PARTITION BY toYYYYMM(updated_at) ORDER BY id")
    parted = datalab.run(*args[:2], f"{CH}{names}_parts", *args[3:], check=False)
    assert parted.returncode == 2 and "partitioned by" in parted.stderr, parted.stderr
    assert ch.scalar(f"SELECT count() FROM it_one.{names}_parts") == "0"


def test_a_wrong_password_is_refused_without_showing_it(datalab, psql, names):
    psql.query(f"CREATE TABLE {names}.src AS SELECT 1 AS id")
    refused = datalab.run("copy", f"{PG}{names}.src", f"clickhouse://it_one:Sup3rSecretPw@localhost/it_one.{names}_x",
                          check=False)
    assert refused.returncode == 3, refused.stderr
    assert "refused the login" in refused.stderr
    assert "Sup3rSecretPw" not in refused.stderr + refused.stdout


def test_clickhouse_to_postgres_streams_a_query_and_reports_a_failure_part_way(datalab, psql, names):
    query = ("clickhouse:///it_one?query=SELECT%20toInt64(number)%20AS%20id,%20toString(number)%20AS%20s,"
             "%20if(number%20%25%203%20=%200,%20NULL,%20toDecimal64(number,%202))%20AS%20d%20FROM%20numbers(300000)")
    report = datalab.json("copy", query, f"{PG}{names}.dst", "--create")
    assert report[0]["summary"]["rows"] == "300000"
    assert psql.query(f"SELECT count(*), sum(id), count(d), sum(d), max(s::bigint) FROM {names}.dst") == \
        [["300000", str(299999 * 300000 // 2), "200000", str(sum(n for n in range(300000) if n % 3)) + ".00", "299999"]]
    # The server fails after the first blocks were sent: the copy fails and the target keeps its rows.
    failing = query.replace("numbers(300000)", "numbers(300000)%20WHERE%20throwIf(number%20=%20250000)%20=%200")
    failed = datalab.run("copy", failing, f"{PG}{names}.dst", "--mode", "replace", check=False)
    assert failed.returncode == 3, failed.stderr
    assert "throwIf" in failed.stderr
    assert psql.scalar(f"SELECT count(*) FROM {names}.dst") == "300000"
    # A type datalab does not read is named with a way out.
    refused = datalab.run("copy", "clickhouse:///it_one?query=SELECT%20[1,2]%20AS%20xs", f"{PG}{names}.x",
                          "--create", check=False)
    assert refused.returncode == 2 and "column 'xs'" in refused.stderr and "Array(UInt8)" in refused.stderr


def test_csv_into_an_existing_table_is_read_with_the_tables_types(datalab, ch, names, tmp_path):
    # Guessed alone, amount would be a double and code an Int64: the table types them.
    ch.query(f"CREATE TABLE it_one.{names}_csv (id Int32, amount Decimal(12, 2), code Nullable(Int16), day Date, "
             "note Nullable(String)) ENGINE = MergeTree ORDER BY id")
    path = tmp_path / "orders.csv"
    path.write_text("id,amount,code,day,note\n1,0.10,7,2024-02-29,12\n2,9999999999.99,,1970-01-02,\n",
                    encoding="utf-8")
    datalab.run("copy", str(path), f"{CH}{names}_csv")
    assert ch.query(f"SELECT id, toString(amount), ifNull(toString(code), 'null'), toString(day), "
                    f"ifNull(note, 'null') FROM it_one.{names}_csv ORDER BY id") == [
        ["1", "0.10", "7", "2024-02-29", "12"], ["2", "9999999999.99", "null", "1970-01-02", "null"]]
