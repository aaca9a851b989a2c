"""The statements datalab sends to a modern ClickHouse (projections, 22.3+) run on the
ClickHouse engine that PyPI's chdb packages: EXPLAIN must show each projection in use and
the results must equal those of the raw rows. The materialized-view path (what 18.16 gets)
is checked on the same engine, so both paths work on new servers too."""
import os
import re

import pytest

from clickhouse_support import ROOT, read_sql, statements

chdb_session = pytest.importorskip("chdb.session")

ROWS = 100_000
QUERIES = {  # query file -> projection it should use (None: materialized view on every server)
    "requests_per_day": "requests_per_day",
    "avg_response_per_url": "response_per_url",
    "errors_per_day": None,
    "top_users": "requests_per_user",
}


def server_side_insert(rows):
    with open(os.path.join(ROOT, "bench", "clickhouse", "server_side.sql")) as f:
        script = f.read().replace("{rows}", str(rows))
    return statements(script)[0]


@pytest.fixture()
def session(tmp_path):
    s = chdb_session.Session(str(tmp_path / "chdb"))
    s.query("CREATE DATABASE IF NOT EXISTS it_one")
    s.query("USE it_one")
    for statement in statements(read_sql("create_web_logs.sql")):
        s.query(statement)
    # Several inserts: several parts per partition, as a real load leaves them.
    for _ in range(3):
        s.query(server_side_insert(ROWS // 3))
    yield s
    s.close()


def result(session, sql):
    return str(session.query(sql, "TSV"))


def wait_for_mutations(session):
    # MATERIALIZE PROJECTION is a mutation: done when system.mutations says so (no sleeping
    # for a guessed time). chdb runs it synchronously with mutations_sync, checked here anyway.
    assert result(session, "SELECT count() FROM system.mutations WHERE database = 'it_one' "
                           "AND table = 'web_logs' AND NOT is_done").strip() == "0"


def test_engine_is_modern_enough_for_projections():
    import chdb
    major, minor = (int(x) for x in str(chdb.query("SELECT version()", "TSV")).strip().split(".")[:2])
    assert (major, minor) >= (22, 3)


def test_projections_are_used_and_give_the_same_results(session):
    before = {name: result(session, read_sql(f"{name}.sql")) for name in QUERIES}
    assert all(before.values())

    for statement in statements(read_sql("projections.sql")):
        if "MATERIALIZE PROJECTION" in statement:
            statement += " SETTINGS mutations_sync = 2"
        session.query(statement)
    for statement in statements(read_sql("errors_per_day_view.sql")):
        session.query(statement)
    wait_for_mutations(session)

    for name, projection in QUERIES.items():
        sql = read_sql(f"{name}.sql") if projection else read_sql(f"{name}_from_view.sql")
        assert result(session, sql) == before[name], name
        if projection:
            plan = result(session, "EXPLAIN indexes = 1 " + read_sql(f"{name}.sql"))
            assert re.search(rf"ReadFromMergeTree \({projection}\)", plan), f"{name}:\n{plan}"
    # Every part carries every projection.
    parts = result(session, "SELECT count() FROM system.parts WHERE database = 'it_one' AND table = 'web_logs' "
                            "AND active").strip()
    projection_parts = result(session, "SELECT count() FROM system.projection_parts WHERE database = 'it_one' "
                                       "AND table = 'web_logs' AND active").strip()
    assert int(projection_parts) == 3 * int(parts)


def test_materialized_view_path_also_runs_on_modern_servers(session):
    before = {name: result(session, read_sql(f"{name}.sql")) for name in QUERIES}
    for script in ("materialized_views.sql", "errors_per_day_view.sql"):
        for statement in statements(read_sql(script)):
            session.query(statement)
    for name in QUERIES:
        assert result(session, read_sql(f"{name}_from_view.sql")) == before[name], name
