"""End-to-end tests: run the datalab binary as a user would and check the database with
psql, an independent client."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _settings():
    return {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": os.environ.get("DB_PORT", "10452"),
        "db": os.environ.get("POSTGRES_DB", "it_one"),
        "user": os.environ.get("POSTGRES_USER", "it_one"),
        "password": os.environ.get("POSTGRES_PASSWORD", "it_one"),
    }


S3_ENV_FILE = os.path.join(ROOT, ".state", "seaweedfs", "s3.env")


def s3_env():
    """S3 settings from the environment, else from the file services/seaweedfs.sh writes.
    No S3 server is a failure, not a skip: scripts/test starts one."""
    if os.environ.get("S3_ENDPOINT"):
        keys = ("S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        return {k: os.environ[k] for k in keys if k in os.environ}
    assert os.path.exists(S3_ENV_FILE), "no S3 server: run services/ctl start seaweedfs"
    env = {}
    for line in open(S3_ENV_FILE):
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[7:].partition("=")
            env[key] = value
    return env


# Values too common to search for: the local services' default user/password/database name.
_NOT_SECRET = {"", "it_one"}


def configured_secrets(args=()):
    """Every secret datalab could know during a run: passwords, tokens and secret keys from
    the environment and the S3 settings file, and passwords inside URLs on the command line."""
    found = {}
    sources = dict(os.environ)
    if os.path.exists(S3_ENV_FILE):
        sources.update(s3_env())
    for key, value in sources.items():
        if any(marker in key for marker in ("PASSWORD", "SECRET", "TOKEN")) and value not in _NOT_SECRET:
            found[key] = value
    for arg in args:
        match = re.search(r"://[^:/@]*:(.+)@", str(arg))
        if match and match.group(1) not in _NOT_SECRET and len(match.group(1)) >= 6:
            found[f"password in {arg.split('@')[-1][:40]}"] = match.group(1)
    return found


def assert_no_secret(what, text, args=()):
    leaked = [name for name, value in configured_secrets(args).items() if value in text]
    assert not leaked, f"{what} shows the secret(s) {leaked}"


class Datalab:
    def __init__(self, binary):
        self.binary = binary

    def run(self, *args, check=True):
        result = subprocess.run([self.binary, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)
        # Every run of every e2e test: no configured secret in anything datalab printed.
        assert_no_secret(f"datalab {' '.join(map(str, args))[:80]}", result.stdout + result.stderr, args)
        if check and result.returncode != 0:
            raise AssertionError(f"datalab {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args):
        return json.loads(self.run("--format", "json", *args).stdout)

    def run_killed(self, *args, after=1.0):
        """Starts datalab with `args` and SIGKILLs it `after` seconds later, part way through."""
        run = subprocess.Popen([self.binary, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(after)
        run.send_signal(signal.SIGKILL)
        run.wait()
        assert run.returncode == -signal.SIGKILL, f"datalab {' '.join(args)[:80]} finished before it could be killed"


class Psql:
    def __init__(self):
        self.s = _settings()

    def query(self, sql):
        env = dict(os.environ, PGPASSWORD=self.s["password"])
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.s["host"], "-p", self.s["port"],
             "-U", self.s["user"], "-d", self.s["db"], "-F", "|", "-c", sql],
            capture_output=True, text=True, env=env, check=True)
        return [line.split("|") for line in out.stdout.splitlines() if line]

    def scalar(self, sql):
        return self.query(sql)[0][0]

    def cursor_table(self, table, rows):
        """`table` (id bigint, updated_at timestamptz, v text) of `rows` rows, 1,000 per second of
        updated_at (ties the key must break), and one more row whose cursor is NULL."""
        self.query(f"""
            CREATE TABLE {table} (id bigint, updated_at timestamptz, v text);
            INSERT INTO {table} SELECT g, timestamptz '2024-01-01' + (g / 1000) * interval '1 second', md5(g::text)
              FROM generate_series(1, {rows}) g;
            INSERT INTO {table} VALUES (0, NULL, 'no cursor')""")

    def drop_schema(self, schema):
        """Drops a test's schema and the watermarks incremental copies stored for its tables
        (and datalab's schema of watermarks when no other rows are left in it)."""
        self.query(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.query("DO $$ BEGIN IF to_regclass('datalab.copy_watermarks') IS NOT NULL THEN "
                   f"DELETE FROM datalab.copy_watermarks WHERE target_table LIKE '{schema}.%'; "
                   "IF NOT EXISTS (SELECT 1 FROM datalab.copy_watermarks) THEN DROP SCHEMA datalab CASCADE; END IF; "
                   "END IF; END $$")


@pytest.fixture(scope="session")
def datalab():
    binary = os.environ.get("DATALAB_BIN", os.path.join(ROOT, "build", "release", "datalab"))
    assert os.path.exists(binary), f"datalab binary not found at {binary}"
    return Datalab(binary)


@pytest.fixture(scope="session")
def psql():
    return Psql()
