"""The clickhouse module through the CLI, checked with clickhouse-client (native protocol)."""
import os
import subprocess

import pytest

from clickhouse_support import ROOT, NativeClient, settings

ROWS = 200_000


@pytest.fixture(scope="module")
def ch():
    return NativeClient()


def section(doc, title_start):
    return next(s for s in doc if s.get("title", "").startswith(title_start))


def content_checksum(ch):
    return ch.scalar("SELECT sum(cityHash64(timestamp, user_id, url, response_time, status_code)) FROM web_logs")


def test_run_twice_replaces_the_table_and_reports_identical_results(datalab, ch):
    first = datalab.json("run", "clickhouse", "--rows", str(ROWS), "--batch-rows", "50000")
    sum_first = content_checksum(ch)
    second = datalab.json("run", "clickhouse", "--rows", str(ROWS), "--batch-rows", "50000")
    assert ch.scalar("SELECT count() FROM web_logs") == str(ROWS)
    assert content_checksum(ch) == sum_first

    overview = section(second, "analytics before and after optimization")["rows"]
    assert [r["query"] for r in overview] == ["requests_per_day", "avg_response_per_url", "errors_per_day", "top_users"]
    assert all(r["identical results"] is True for r in overview)
    assert all(r["rows read before"] == ROWS and r["rows read after"] < ROWS / 10 for r in overview)
    loaded = section(first, "generated and inserted")["rows"][0]
    assert loaded["rows"] == ROWS and loaded["batches"] == 4

    # Every statistic is reported for both runs.
    stats = section(second, "Requests per day: before vs after")["rows"]
    names = [r["statistic"] for r in stats]
    assert names == ["elapsed ms (server)", "elapsed ms (client)", "memory bytes", "rows read", "bytes read",
                     "result rows", "result bytes"]
    rows_read = next(r for r in stats if r["statistic"] == "rows read")
    assert rows_read["before"] == ROWS

    # What datalab reports is what clickhouse-client computes from the raw rows.
    top = section(second, "Top 10 users by requests: result")["rows"]
    expected = ch.query("SELECT user_id, count() AS c FROM web_logs GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10")
    assert [[str(r["user_id"]), str(r["requests"])] for r in top] == expected
    errors = ch.query("SELECT sum(errors) FROM web_logs_errors_per_day")[0][0]
    assert errors == ch.scalar("SELECT countIf(status_code >= 400) FROM web_logs")


def test_rows_follow_the_spec_and_the_seed(datalab, ch):
    datalab.run("run", "clickhouse", "--rows", "50000", "--seed", "5")
    five = content_checksum(ch)
    assert ch.query("SELECT min(timestamp) >= toDateTime('2024-12-30 00:00:00'), "
                    "max(timestamp) < toDateTime('2025-06-30 00:00:00'), uniqExact(url), "
                    "max(user_id) <= 10000, arraySort(groupUniqArray(status_code)) FROM web_logs") == \
        [["1", "1", "9", "1", "[200,301,302,404,500]"]]
    datalab.run("run", "clickhouse", "--rows", "50000", "--seed", "6")
    assert content_checksum(ch) != five
    datalab.run("run", "clickhouse", "--rows", "50000", "--seed", "5")
    assert content_checksum(ch) == five
    # Partitioned by month, ordered by (timestamp, user_id).
    parts = ch.query("SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() "
                     "AND table = 'web_logs' AND active ORDER BY partition")
    assert [p[0] for p in parts] == ["202412", "202501", "202502", "202503", "202504", "202505", "202506"]


def test_query_command_shows_result_and_statistics(datalab):
    doc = datalab.json("clickhouse", "query", "SELECT number FROM system.numbers LIMIT 3")
    assert [int(r["number"]) for r in section(doc, "result")["rows"]] == [0, 1, 2]
    stats = section(doc, "statistics")["summary"]
    assert stats["result rows"] == "3" and int(stats["rows read"]) >= 3
    assert stats["query id"].startswith("datalab-query-")


def run_bad(datalab, *args, env=None):
    result = subprocess.run([datalab.binary, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env=dict(os.environ, **(env or {})))
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "terminate" not in result.stderr
    return result


@pytest.mark.parametrize("case, env, args, expected_code, expected_text", [
    ("unreachable server", {"CLICKHOUSE_DB_PORT": "1", "CLICKHOUSE_DB_HOST": "127.0.0.1"},
     ["run", "clickhouse", "--rows", "10"], 3, "cannot reach ClickHouse"),
    ("wrong password", {"CLICKHOUSE_PASSWORD": "wrong-secret-4711"},
     ["run", "clickhouse", "--rows", "10"], 3, "refused the login"),
    ("unknown database", {"CLICKHOUSE_DB": "no_such_db_4711"},
     ["run", "clickhouse", "--rows", "10"], 3, "no_such_db_4711"),
    ("malformed --rows", {}, ["run", "clickhouse", "--rows", "ten"], 2, "--rows 'ten' is not a whole number"),
    ("zero --rows", {}, ["run", "clickhouse", "--rows", "0"], 2, "must be a positive whole number"),
    ("query error", {}, ["clickhouse", "query", "SELECT no_such_column FROM web_logs"], 3, "ClickHouse error 47"),
])
def test_bad_input_gives_one_clear_message(datalab, case, env, args, expected_code, expected_text):
    result = run_bad(datalab, *args, env=env)
    assert result.returncode == expected_code, result.stderr
    assert expected_text in result.stderr
    assert "wrong-secret-4711" not in result.stderr + result.stdout
    s = settings()
    if s["password"] not in (s["user"], s["db"]):  # the default it_one is also the user name
        assert s["password"] not in result.stderr + result.stdout
