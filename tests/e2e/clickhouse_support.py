"""Independent ClickHouse clients for the clickhouse e2e tests: clickhouse-client over the
native protocol (not the HTTP interface datalab uses) and a plain HTTP helper for SQL that
needs no client binary."""
import base64
import os
import subprocess
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SQL_DIR = os.path.join(ROOT, "src", "modules", "clickhouse", "sql")


def settings():
    return {
        "host": os.environ.get("CLICKHOUSE_DB_HOST", "localhost"),
        "port": os.environ.get("CLICKHOUSE_DB_PORT", "10453"),
        "native_port": os.environ.get("CLICKHOUSE_NATIVE_PORT", "10454"),
        "db": os.environ.get("CLICKHOUSE_DB", "it_one"),
        "user": os.environ.get("CLICKHOUSE_USER", "it_one"),
        "password": os.environ.get("CLICKHOUSE_PASSWORD", "it_one"),
    }


class NativeClient:
    """clickhouse-client on the native port: rows as lists of strings (TSV)."""

    def __init__(self):
        self.s = settings()

    def query(self, sql):
        host = "127.0.0.1" if self.s["host"] == "localhost" else self.s["host"]
        out = subprocess.run(
            ["clickhouse-client", "--host", host, "--port", self.s["native_port"], "--user", self.s["user"],
             "--password", self.s["password"], "--database", self.s["db"], "--format", "TSV", "-q", sql],
            capture_output=True, text=True, check=True)
        return [line.split("\t") for line in out.stdout.splitlines()]

    def scalar(self, sql):
        return self.query(sql)[0][0]


def http_query(sql, database=None):
    """Runs SQL over HTTP and returns the TSV body (raises on a server error)."""
    s = settings()
    url = f"http://{s['host']}:{s['port']}/?" + urllib.parse.urlencode({"database": database or s["db"]})
    request = urllib.request.Request(url, data=sql.encode(), method="POST")
    token = base64.b64encode(f"{s['user']}:{s['password']}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read().decode()


def read_sql(name):
    with open(os.path.join(SQL_DIR, name)) as f:
        return f.read()


def statements(script):
    """Top-level statements of one of our SQL files (no semicolons inside strings there)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
