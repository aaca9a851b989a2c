"""datalab copy between PostgreSQL tables, checked with psql: every type and edge value
arrives as it left, merge upserts, replace is all or nothing for readers, a type the target
cannot hold is refused before any row, and an incremental copy killed part way loses and
repeats nothing when it runs again."""
import json
import threading
import time
import uuid

import pytest

DB = "postgres:///?table="


@pytest.fixture
def schema(psql):
    name = "copy_pg_" + uuid.uuid4().hex[:8]
    psql.query(f"CREATE SCHEMA {name}")
    yield name
    psql.drop_schema(name)


def rows_text(psql, table, order="1"):
    return psql.query(f"SELECT t::text FROM {table} t ORDER BY {order}")


def test_every_type_and_edge_value_arrives_as_it_left(datalab, psql, schema):
    psql.query(f"""
        CREATE TABLE {schema}.src (id integer, small smallint, big bigint, real_v real, double_v double precision,
          price numeric(38,10), cents numeric(12,2), name text, code varchar(8), flag boolean, day date,
          at timestamp, at_tz timestamptz, raw bytea);
        INSERT INTO {schema}.src VALUES
          (1, -32768, -9223372036854775808, -3.4e38, 5e-324, -9999999999999999999999999999.9999999999, -0.01,
           '', 'a', true, '0001-01-01', '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00+00', '\\x00ff'),
          (2, 32767, 9223372036854775807, 1.5, -1.7976931348623157e308, 0.0000000001, 9999999999.99,
           E'tab\\there\\nnew line "quoted" \\\\ back ''single'' 😀 ünï', 'zzzzzzzz', false, '9999-12-31',
           '2024-02-29 12:00:00', '2038-01-19 03:14:08+05', ''),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    report = datalab.json("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--create")
    summary = report[0]["summary"]
    assert summary["rows"] == "3"
    assert summary["rejected"] == "0"
    assert rows_text(psql, f"{schema}.dst", "id") == rows_text(psql, f"{schema}.src", "id")
    # The created table has the source's column types.
    types = psql.query(f"SELECT column_name, data_type FROM information_schema.columns "
                       f"WHERE table_schema = '{schema}' AND table_name = 'dst' ORDER BY ordinal_position")
    assert dict(types)["price"] == "numeric" and dict(types)["at_tz"] == "timestamp with time zone"
    # A query is a source too.
    datalab.run("copy", f"postgres:///?query=SELECT%20id,%20name%20FROM%20{schema}.src%20WHERE%20id%20%3E%201",
                f"{DB}{schema}.names", "--create")
    assert psql.query(f"SELECT id, name IS NULL FROM {schema}.names ORDER BY id") == [["2", "f"], ["3", "t"]]


def test_merge_updates_existing_rows_and_inserts_new_ones(datalab, psql, schema):
    psql.query(f"""
        CREATE TABLE {schema}.dst (id bigint PRIMARY KEY, name text, qty integer);
        INSERT INTO {schema}.dst VALUES (1, 'one', 1), (2, 'two', 2);
        CREATE TABLE {schema}.src (id bigint, name text, qty integer);
        INSERT INTO {schema}.src VALUES (2, 'TWO', 20), (3, 'three', 3)""")
    datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--mode", "merge", "--key", "id")
    assert psql.query(f"SELECT * FROM {schema}.dst ORDER BY id") == [
        ["1", "one", "1"], ["2", "TWO", "20"], ["3", "three", "3"]]
    # A key that is not unique in the target is a clear error, and nothing changes.
    failed = datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--mode", "merge", "--key", "name",
                         check=False)
    assert failed.returncode == 2, failed.stderr
    assert "not a primary key or unique constraint" in failed.stderr
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == "3"


def test_replace_shows_readers_the_old_rows_or_the_new_never_half(datalab, psql, schema):
    psql.query(f"""
        CREATE TABLE {schema}.src AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 600000) g;
        CREATE TABLE {schema}.dst AS SELECT g AS id, 'old' AS payload FROM generate_series(1, 10) g""")
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(psql.scalar(f"SELECT count(*) FROM {schema}.dst"))
            time.sleep(0.02)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--mode", "replace")
    finally:
        stop.set()
        reader.join()
    assert seen <= {"10", "600000"}, seen
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == "600000"


def test_a_copy_that_fails_part_way_leaves_the_previous_rows(datalab, psql, schema):
    psql.query(f"""
        CREATE TABLE {schema}.src AS SELECT g AS id, CASE WHEN g = 150000 THEN 'x' ELSE g::text END AS n
          FROM generate_series(1, 200000) g;
        CREATE TABLE {schema}.dst (id integer, n integer);
        INSERT INTO {schema}.dst VALUES (7, 7)""")
    failed = datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--mode", "replace",
                         "--cast", "n=int32", check=False)
    assert failed.returncode == 2, failed.stderr
    assert "column 'n'" in failed.stderr and "cannot be converted" in failed.stderr
    assert psql.query(f"SELECT * FROM {schema}.dst") == [["7", "7"]]


def test_a_type_the_target_cannot_hold_is_refused_before_any_row(datalab, psql, schema):
    psql.query(f"""
        CREATE TABLE {schema}.src (id bigint, label text);
        INSERT INTO {schema}.src VALUES (1, 'a'), (2, 'b');
        CREATE TABLE {schema}.dst (id integer, label text)""")
    refused = datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", check=False)
    assert refused.returncode == 2
    assert "column 'id'" in refused.stderr and "int64" in refused.stderr and "integer" in refused.stderr
    assert "--cast id=" in refused.stderr
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == "0"
    # With an explicit cast the values that fit go in.
    datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--cast", "id=int32")
    assert psql.query(f"SELECT * FROM {schema}.dst ORDER BY id") == [["1", "a"], ["2", "b"]]
    # A wider target column takes the value as it is.
    psql.query(f"CREATE TABLE {schema}.wide (id numeric(30,0), label varchar(10))")
    datalab.run("copy", f"{DB}{schema}.dst", f"{DB}{schema}.wide")
    assert psql.scalar(f"SELECT sum(id) FROM {schema}.wide") == "3"
    missing = datalab.run("copy", f"{DB}{schema}.src", f"{DB}{schema}.nowhere", check=False)
    assert missing.returncode == 2 and "--create" in missing.stderr


def test_an_incremental_copy_killed_part_way_loses_and_repeats_nothing(datalab, psql, schema):
    # Many rows share a cursor value: the key breaks the ties, also across runs.
    psql.cursor_table(f"{schema}.src", 3000000)
    psql.query(f"CREATE TABLE {schema}.dst (id bigint, updated_at timestamptz, v text)")
    args = ["copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--incremental", "--cursor", "updated_at",
            "--key", "id"]
    datalab.run_killed(*args)
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == "0"
    # No watermark either (on a fresh database not even the table that holds them).
    if psql.scalar("SELECT to_regclass('datalab.copy_watermarks') IS NOT NULL") == "t":
        assert psql.scalar(f"SELECT count(*) FROM datalab.copy_watermarks WHERE target_table = '{schema}.dst'") == "0"

    first = datalab.json(*args)[0]["summary"]
    assert first["rows"] == "3000000"
    assert first["rows with a NULL cursor (not copied)"] == "1"
    # Ties with the watermark (same cursor, larger id), a later row, and one earlier than the
    # watermark (never copied: an incremental copy only moves forward).
    last_cursor = psql.scalar(f"SELECT max(updated_at) FROM {schema}.src")
    psql.query(f"""INSERT INTO {schema}.src VALUES
        (3000001, '{last_cursor}', 'tie'), (3000002, '{last_cursor}'::timestamptz + interval '1 hour', 'later'),
        (3000003, '2023-01-01', 'late arrival')""")
    second = datalab.json(*args)[0]["summary"]
    assert second["rows"] == "2"
    third = datalab.json(*args)[0]["summary"]
    assert third["rows"] == "0"
    assert psql.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {schema}.dst") == [
        ["3000002", "3000002", "1", "3000002"]]


def test_secrets_in_urls_never_show(datalab, psql, schema):
    failed = datalab.run("copy", "postgres://it_one:Wr0ng-Secret-77@127.0.0.1:10452/it_one?table=x.y",
                         f"{DB}{schema}.dst", check=False)
    assert failed.returncode == 3, failed.stderr
    assert "Wr0ng-Secret-77" not in failed.stderr + failed.stdout
    assert "password authentication failed" in failed.stderr


def test_rows_the_target_refuses_go_to_the_reject_file_and_the_others_arrive(datalab, psql, schema, tmp_path):
    # 200,000 rows over several batches; four refused by the table's constraints, each in
    # another batch: a duplicate of a row already there, a NULL into NOT NULL, a failed CHECK
    # and a value too long for varchar(3).
    psql.query(f"""
        CREATE TABLE {schema}.src AS SELECT g AS id, CASE WHEN g = 70001 THEN NULL ELSE 'ok' END AS code,
          CASE WHEN g = 140001 THEN -1 ELSE g END AS qty FROM generate_series(1, 200000) g;
        UPDATE {schema}.src SET code = 'long' WHERE id = 199999;
        CREATE TABLE {schema}.dst (id integer PRIMARY KEY, code varchar(3) NOT NULL, qty integer CHECK (qty >= 0));
        INSERT INTO {schema}.dst VALUES (5, 'old', 5)""")
    rejects = tmp_path / "rejected.jsonl"
    run = datalab.run("--format", "json", "copy", f"{DB}{schema}.src", f"{DB}{schema}.dst", "--reject", str(rejects),
                      check=False)
    assert run.returncode == 4, run.stderr
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert sorted(r["row"]["id"] for r in lines) == [5, 70001, 140001, 199999]
    by_id = {r["row"]["id"]: r for r in lines}
    assert "duplicate key" in by_id[5]["reason"] and "23505" in by_id[5]["reason"]
    assert by_id[70001]["row"]["code"] is None and "not-null" in by_id[70001]["reason"]
    assert by_id[140001]["row"]["qty"] == -1 and "check constraint" in by_id[140001]["reason"]
    assert by_id[199999]["row"]["code"] == "long" and "too long" in by_id[199999]["reason"]
    report = json.loads(run.stdout)
    summary = next(s["summary"] for s in report if "summary" in s)
    assert summary["rejected"] == "4" and summary["rows"] == "200000"
    # Every other row arrived, the existing row 5 kept its values.
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == str(200000 - 4 + 1)
    assert psql.query(f"SELECT code, qty FROM {schema}.dst WHERE id = 5") == [["old", "5"]]
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst d JOIN {schema}.src s USING (id) "
                       f"WHERE d.code = s.code AND d.qty = s.qty") == str(200000 - 4)

    # A copy that fails for another reason (the source query breaks part way) commits
    # nothing and leaves the reject file of the last copy that committed as it was.
    before = psql.scalar(f"SELECT count(*) FROM {schema}.dst")
    previous = rejects.read_text()
    failed = datalab.run("copy", f"postgres:///?query=SELECT%20id%20%2B%201000000%20AS%20id%2C%20code%2C%20"
                         f"1%2F(id%20-%20150000)%20AS%20qty%20FROM%20{schema}.src%20ORDER%20BY%20id",
                         f"{DB}{schema}.dst", "--reject", str(rejects), check=False)
    assert failed.returncode not in (0, 4), failed.stderr
    assert "division by zero" in failed.stderr
    assert psql.scalar(f"SELECT count(*) FROM {schema}.dst") == before
    assert rejects.read_text() == previous and not (tmp_path / "rejected.jsonl.partial").exists()

    other = datalab.run("copy", f"{DB}{schema}.src", str(tmp_path / "x.parquet"), "--reject", str(rejects), check=False)
    assert other.returncode == 2 and "only a PostgreSQL target" in other.stderr
