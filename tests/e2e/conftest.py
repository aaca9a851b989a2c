"""End-to-end tests: run the datalab binary as a user would and check the database with
psql, an independent client."""
import json
import os
import subprocess

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


class Datalab:
    def __init__(self, binary):
        self.binary = binary

    def run(self, *args, check=True):
        result = subprocess.run([self.binary, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"datalab {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args):
        return json.loads(self.run("--format", "json", *args).stdout)


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


@pytest.fixture(scope="session")
def datalab():
    binary = os.environ.get("DATALAB_BIN", os.path.join(ROOT, "build", "release", "datalab"))
    assert os.path.exists(binary), f"datalab binary not found at {binary}"
    return Datalab(binary)


@pytest.fixture(scope="session")
def psql():
    return Psql()
