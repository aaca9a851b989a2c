"""The command line as a careless user meets it: usage errors and impossible settings exit 2
(the README's promise), and Ctrl-C says what it stopped and leaves the database as it was."""
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, Psql


@pytest.mark.parametrize("args", [
    ["run", "library", "--books", "abc"],    # a flag value of the wrong type
    ["run", "no_such_module"],               # an unknown subcommand
    ["run"],                                 # a missing subcommand
    ["library", "add", "books", "--nope"],   # an unknown flag
])
def test_usage_errors_exit_2(datalab, args):
    out = datalab.run(*args, check=False)
    assert out.returncode == 2, (args, out.returncode, out.stderr)
    assert out.stderr.strip(), "a usage error says what was wrong"


def test_help_exits_0(datalab):
    out = datalab.run("run", "--help", check=False)
    assert out.returncode == 0 and "library" in out.stdout


@pytest.mark.parametrize("value", ["abc", "-99999", "0", "70000", "5432x"])
def test_impossible_port_is_a_settings_error(datalab, value):
    out = datalab.run("-s", f"DB_PORT={value}", "library", "query", "books", check=False)
    assert out.returncode == 2, (value, out.returncode, out.stderr)
    assert "DB_PORT" in out.stderr and "1 to 65535" in out.stderr


def test_impossible_setting_from_the_environment_names_its_source(datalab):
    env = dict(os.environ, CLICKHOUSE_DB_PORT="not-a-port")
    out = subprocess.run([datalab.binary, "config"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 2
    assert "CLICKHOUSE_DB_PORT" in out.stderr and "environment" in out.stderr


@pytest.fixture
def own_database(psql):
    """A database of the test's own, dropped afterwards."""
    name = f"e2e_cli_{uuid.uuid4().hex[:8]}"
    psql.query(f'CREATE DATABASE "{name}"')
    db = Psql()
    db.s = dict(db.s, db=name)
    try:
        yield name, db
    finally:
        psql.query(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def library_counts(db):
    return db.query("SELECT (SELECT count(*) FROM library.books), (SELECT count(*) FROM library.authors), "
                    "(SELECT count(*) FROM library.loans)")


def test_ctrl_c_says_what_it_stopped_and_changes_nothing(datalab, own_database):
    name, db = own_database
    env = dict(os.environ, POSTGRES_DB=name)
    small = subprocess.run([datalab.binary, "run", "library", "--books", "200", "--authors", "50", "--seed", "3"],
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert small.returncode == 0, small.stderr
    before = library_counts(db)

    big = subprocess.Popen([datalab.binary, "run", "library", "--books", "20000000", "--authors", "1000000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    # Interrupt once the big load is under way: its COPY is visible in pg_stat_activity.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        active = db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'COPY%' AND state = 'active'")
        if active[0][0] != "0":
            break
        assert big.poll() is None, "the big run ended before it could be interrupted"
        time.sleep(0.1)
    else:
        big.kill()
        pytest.fail("the big load never started")
    big.send_signal(signal.SIGINT)
    _, stderr = big.communicate(timeout=60)
    assert big.returncode == 130
    assert "interrupted: stopped `datalab run library`" in stderr
    assert "changed nothing" in stderr
    # The rolled-back transaction left the earlier load exactly as it was.
    deadline = time.monotonic() + 30
    while db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'COPY%'")[0][0] != "0":
        assert time.monotonic() < deadline, "the interrupted COPY is still running on the server"
        time.sleep(0.2)
    assert library_counts(db) == before
