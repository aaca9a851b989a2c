"""Grafana provisioning for ClickHouse: the files are what Grafana 12 and the
grafana-clickhouse-datasource plugin read, and every panel's SQL runs on the real server
with the plugin's macros replaced by a concrete time range."""
import json
import os
import re

import pytest

from clickhouse_support import ROOT, http_query

GRAFANA = os.path.join(ROOT, "grafana")
FROM, TO = 1735516800, 1751241600  # 2024-12-30 .. 2025-06-30 UTC: the default --as-of's 6 months


def dashboard():
    with open(os.path.join(GRAFANA, "dashboards", "web_logs.json")) as f:
        return json.load(f)


def expand_macros(sql):
    """What the plugin does with its macros, for a fixed range."""
    sql = re.sub(r"\$__timeFilter\((\w+)\)", rf"\1 >= toDateTime({FROM}) AND \1 <= toDateTime({TO})", sql)
    sql = sql.replace("$__fromTime", f"toDateTime({FROM})").replace("$__toTime", f"toDateTime({TO})")
    assert "$__" not in sql, sql
    return sql


@pytest.fixture(scope="module")
def web_logs(datalab):
    datalab.run("run", "clickhouse", "--rows", "100000")


def test_provisioning_files_use_the_same_settings():
    with open(os.path.join(GRAFANA, "provisioning", "datasources", "clickhouse.yaml")) as f:
        text = f.read()
    assert "type: grafana-clickhouse-datasource" in text
    assert "uid: datalab-clickhouse" in text
    for variable in ("CLICKHOUSE_DB_HOST", "CLICKHOUSE_DB_PORT", "CLICKHOUSE_USER", "CLICKHOUSE_DB",
                     "CLICKHOUSE_PASSWORD"):
        assert "${" + variable + "}" in text
    assert re.search(r"secureJsonData:\s*\n\s+password: \$\{CLICKHOUSE_PASSWORD\}", text)
    with open(os.path.join(GRAFANA, "provisioning", "dashboards", "datalab.yaml")) as f:
        providers = f.read()
    assert "type: file" in providers and "apiVersion: 1" in providers


def test_dashboard_has_the_three_panels():
    d = dashboard()
    assert d["uid"] == "datalab-web-logs" and d["title"] == "web_logs"
    titles = [p["title"] for p in d["panels"]]
    assert titles == ["4xx and 5xx errors per day", "Average response time per URL", "Top 10 users by requests"]
    for panel in d["panels"]:
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "grafana-clickhouse-datasource", "uid": "datalab-clickhouse"}
            assert target["editorType"] == "sql" and target["rawSql"].strip()
    assert len({p["id"] for p in d["panels"]}) == 3


def test_every_panel_query_runs_on_the_server(web_logs):
    outputs = {}
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            body = http_query(expand_macros(target["rawSql"]) + "\nFORMAT TSVWithNames")
            lines = body.splitlines()
            assert len(lines) > 1, f"{panel['title']}: no rows"
            outputs[panel["title"]] = [line.split("\t") for line in lines]
    errors = outputs["4xx and 5xx errors per day"]
    assert errors[0] == ["time", "errors_4xx", "errors_5xx"] and len(errors) - 1 == 182
    per_url = outputs["Average response time per URL"]
    assert per_url[0] == ["url", "avg_response_ms"] and len(per_url) - 1 == 9
    top = outputs["Top 10 users by requests"]
    assert top[0] == ["user_id", "requests"] and len(top) - 1 == 10
    # The errors panel (from the materialized view) agrees with the raw rows.
    total = sum(int(r[1]) + int(r[2]) for r in errors[1:])
    assert total == int(http_query("SELECT countIf(status_code >= 400) FROM web_logs").strip())
