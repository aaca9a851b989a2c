"""datalab cdc: PostgreSQL's changes through logical replication into Kafka, on the real
server and broker. kcat reads the topics read_committed, as a consumer of them would; the
topic's changes, applied in order, must give exactly the table psql reads at the source."""
import decimal
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT

BOOTSTRAP = os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092")
POSITIONS = "datalab-cdc-positions"


def kcat(*args):
    return subprocess.run(["kcat", "-b", BOOTSTRAP, *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout


class Stream:
    """One test's publication, slot, Kafka prefix and table; everything of it is dropped at the end."""

    def __init__(self, datalab, psql):
        self.datalab, self.psql = datalab, psql
        tag = uuid.uuid4().hex[:10]
        self.schema = f"cdc_{tag}"
        self.table = f"{self.schema}.items"
        self.publication = f"cdc_pub_{tag}"
        self.slot = f"cdc_slot_{tag}"
        self.prefix = f"cdc-{tag}"
        self.source = f"postgres+cdc:///?publication={self.publication}&slot={self.slot}&tables={self.table}"
        self.target = f"kafka://{BOOTSTRAP}/{self.prefix}"
        self.topic = f"{self.prefix}.{self.schema}.items"
        self.replica = f"postgres:///?schema={self.schema}_replica"  # the tables changes are applied to
        psql.query(f"CREATE SCHEMA {self.schema}; CREATE TABLE {self.table} (id bigint PRIMARY KEY, v text, n int, "
                   "amount numeric(12,2), ok boolean)")

    def run(self, *extra, target=None):
        result = self.datalab.run("--format", "json", "cdc", "run", self.source, target or self.target,
                                  "--until-caught-up", *extra, check=False)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        return next(s["summary"] for s in report if "summary" in s), [s["note"] for s in report if "note" in s]

    def start(self, target=None, *extra):
        """A long-running `cdc run` (until it is signalled)."""
        return subprocess.Popen([self.datalab.binary, "cdc", "run", self.source, target or self.target, *extra],
                                cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def messages(self):
        lines = kcat("-C", "-J", "-e", "-q", "-t", self.topic, "-o", "beginning",
                     "-X", "isolation.level=read_committed").splitlines()
        return [json.loads(line) for line in lines]

    def changes(self):
        return [json.loads(m["payload"], parse_float=decimal.Decimal) for m in self.messages()]

    def replayed(self):
        """The table as a consumer applying the topic's changes in order sees it."""
        state = {}
        for change in self.changes():
            if change["op"] in ("r", "c", "u"):
                row = change["after"]
                state[row["id"]] = (row["v"], row["n"], None if row["amount"] is None else str(row["amount"]), row["ok"])
            elif change["op"] == "d":
                state.pop(change["before"]["id"], None)
            elif change["op"] == "t":
                state.clear()
        return state

    def source_rows(self):
        rows = self.psql.query(f"SELECT id, coalesce(v, '<null>'), coalesce(n::text, '<null>'), "
                               f"coalesce(amount::text, '<null>'), coalesce(ok::text, '<null>') FROM {self.table}")

        def value(text, convert=str):
            return None if text == "<null>" else convert(text)

        return {int(r[0]): (value(r[1]), value(r[2], int), value(r[3]), value(r[4], lambda b: b == "true"))
                for r in rows}

    def status(self, *extra, check=True):
        result = self.datalab.run("--format", "json", "cdc", "status", self.source, *extra, check=False)
        if check:
            assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        return result, next(s["summary"] for s in report if "summary" in s), [s["note"] for s in report if "note" in s]

    def slot_exists(self):
        return self.psql.scalar(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{self.slot}'") == "1"

    def drop(self):
        self.datalab.run("cdc", "drop", self.source, self.target, check=False)
        self.datalab.run("cdc", "drop", self.source, self.replica, check=False)
        self.psql.query(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; DROP SCHEMA IF EXISTS {self.schema}_replica CASCADE")
        drop_positions_if_empty(self.psql)

    def checksum(self, table):
        return self.psql.scalar(f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') "
                                f"FROM {table} t")


def drop_positions_if_empty(psql):
    """datalab.cdc_positions, and datalab's schema, go when nothing else is left in them."""
    psql.query("DO $$ BEGIN IF to_regclass('datalab.cdc_positions') IS NOT NULL THEN "
               "IF NOT EXISTS (SELECT 1 FROM datalab.cdc_positions) THEN DROP TABLE datalab.cdc_positions; "
               "END IF; END IF; "
               "IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'datalab') AND NOT EXISTS (SELECT 1 "
               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'datalab') "
               "THEN DROP SCHEMA datalab; END IF; END $$")


@pytest.fixture
def stream(datalab, psql):
    from kafka.admin import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)
    had_positions = POSITIONS in admin.list_topics()
    admin.close()
    made = Stream(datalab, psql)
    yield made
    made.drop()
    # A client of its own: a test may have restarted the broker, leaving the first one's
    # connection dead (seen in CI as NodeNotReadyError).
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)
    topics = [t for t in admin.list_topics() if t.startswith(made.prefix + ".")]
    if not had_positions and POSITIONS in admin.list_topics():
        topics.append(POSITIONS)
    if topics:
        admin.delete_topics(topics)
    admin.close()


def writer(psql, sql_body, iterations, pause="0.002"):
    """A psql session running `sql_body` `iterations` times, each in its own transaction
    (i is the iteration), in the background."""
    s = psql.s
    block = (f"DO $$ BEGIN FOR i IN 1..{iterations} LOOP {sql_body} COMMIT; PERFORM pg_sleep({pause}); "
             "END LOOP; END $$")
    return subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s["host"], "-p", s["port"], "-U",
                             s["user"], "-d", s["db"], "-c", block], env=dict(os.environ, PGPASSWORD=s["password"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_snapshot_then_inserts_updates_deletes_reach_kafka_as_debezium_changes(stream, psql):
    psql.query(f"""INSERT INTO {stream.table} SELECT g, md5(g::text), g % 7, g * 1.25, g % 2 = 0
                   FROM generate_series(1, 2000) g;
                   INSERT INTO {stream.table} VALUES (0, 'Zoë 😀 "q"', NULL, NULL, NULL)""")
    summary, _ = stream.run()
    assert summary["snapshot taken"] == "yes" and summary["snapshot rows"] == "2001"
    messages = stream.messages()
    assert len(messages) == 2001
    first = json.loads(messages[0]["payload"])
    assert first["op"] == "r" and first["source"]["snapshot"] == "true" and first["before"] is None
    assert first["source"]["connector"] == "postgresql" and first["source"]["table"] == "items"
    assert json.loads(messages[0]["key"]) == {"id": first["after"]["id"]}  # keyed by the primary key
    assert stream.replayed() == stream.source_rows()

    # Two transactions (psql runs the statements after COMMIT as one): updates, deletes, a new
    # primary key, a large update, a new column.
    psql.query(f"""BEGIN; UPDATE {stream.table} SET v = 'changed', ok = NOT ok WHERE id BETWEEN 1 AND 10;
                   DELETE FROM {stream.table} WHERE id BETWEEN 11 AND 20;
                   INSERT INTO {stream.table} VALUES (5000, 'new', 1, 0.01, true); COMMIT;
                   UPDATE {stream.table} SET id = 6000 WHERE id = 21;
                   UPDATE {stream.table} SET n = coalesce(n, 0) + 1;
                   ALTER TABLE {stream.table} ADD COLUMN extra text;
                   INSERT INTO {stream.table} VALUES (6001, 'after alter', 2, 2.5, false, 'carried')""")
    summary, notes = stream.run()
    assert summary["snapshot taken"] == "no"
    rows = 2001 - 10 + 1  # at the time of the large update
    assert summary["changes"] == str(10 + 10 + 1 + 2 + rows + 1) and summary["transactions"] == "2"
    assert any("changed its columns" in n and "extra" in n for n in notes), notes
    changes = stream.changes()[2001:]
    assert [c["op"] for c in changes[:21]] == ["u"] * 10 + ["d"] * 10 + ["c"]
    assert changes[10]["before"]["id"] == 11 and changes[10]["after"] is None
    assert [c["op"] for c in changes[21:23]] == ["d", "c"]  # the key changed: the old row goes, a new one comes
    assert changes[21]["before"]["id"] == 21 and changes[22]["after"]["id"] == 6000
    assert changes[-1]["after"]["extra"] == "carried"
    assert len({c["source"]["lsn"] for c in changes[23:23 + rows]}) == 1  # one transaction, one commit position
    assert stream.replayed() == stream.source_rows()

    # Nothing new: nothing is sent again.
    summary, _ = stream.run()
    assert summary["changes"] == "0"
    assert len(stream.messages()) == 2001 + len(changes)


def test_writes_during_the_snapshot_are_neither_lost_nor_repeated(stream, psql):
    psql.query(f"INSERT INTO {stream.table} SELECT g, md5(g::text), 0, g, true FROM generate_series(1, 300000) g")
    busy = writer(psql, f"""INSERT INTO {stream.table} VALUES (1000000 + i, 'during', i, i, false);
                            UPDATE {stream.table} SET n = n + 1 WHERE id = i;
                            DELETE FROM {stream.table} WHERE id = 300000 - i;""", 1500)
    try:
        time.sleep(0.5)
        summary, _ = stream.run()
        assert summary["snapshot taken"] == "yes"
    finally:
        assert busy.wait(timeout=300) == 0, busy.stderr.read()
    stream.run()
    changes = stream.changes()
    snapshot_ids = {c["after"]["id"] for c in changes if c["op"] == "r"}
    inserted_ids = [c["after"]["id"] for c in changes if c["op"] == "c"]
    # The writer ran across the snapshot: some of its rows are in it, later ones streamed.
    assert snapshot_ids & set(range(1000001, 1001501)) and inserted_ids
    # Each write is in the snapshot or in the stream, never both, never twice.
    assert not snapshot_ids & set(inserted_ids)
    assert len(inserted_ids) == len(set(inserted_ids))
    assert len([c for c in changes if c["op"] != "r"]) <= 3 * 1500
    assert stream.replayed() == stream.source_rows()


def test_a_killed_stream_resumes_where_kafka_holds_it_without_loss_or_repeats(stream, psql, datalab):
    psql.query(f"INSERT INTO {stream.table} SELECT g, 'v', 0, g, true FROM generate_series(1, 10000) g")
    stream.run()
    busy = writer(psql, f"""INSERT INTO {stream.table} VALUES (100000 + i, 'new', i, i, false);
                            UPDATE {stream.table} SET n = n + 1 WHERE id = i;
                            DELETE FROM {stream.table} WHERE id = 10001 - i;
                            IF i % 500 = 0 THEN UPDATE {stream.table} SET v = 'bulk ' || i; END IF;""", 3000)
    try:
        running = stream.start()
        time.sleep(3)
        running.send_signal(signal.SIGKILL)
        running.wait()
        assert running.returncode == -signal.SIGKILL
        # Another one, stopped the clean way: it stores what it has and exits 0.
        running = stream.start()
        time.sleep(3)
        running.send_signal(signal.SIGTERM)
        _, err = running.communicate(timeout=60)
        assert running.returncode == 0, err
    finally:
        assert busy.wait(timeout=300) == 0, busy.stderr.read()
    summary, _ = stream.run()
    assert summary["snapshot taken"] == "no"
    changes = [c for c in stream.changes() if c["op"] != "r"]
    # A change is one (commit position, operation, row): none arrives twice.
    seen = [(c["source"]["lsn"], c["op"], json.dumps(c["after"] or c["before"], default=str)) for c in changes]
    assert len(seen) == len(set(seen))
    assert stream.replayed() == stream.source_rows()


def test_an_idle_slot_advances_while_other_tables_write(stream, psql):
    psql.query(f"CREATE TABLE {stream.schema}.other (id int, pad text)")
    stream.run()
    running = stream.start()
    try:
        psql.query(f"INSERT INTO {stream.schema}.other SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g")
        written_to = psql.scalar("SELECT pg_current_wal_lsn()")
        deadline = time.time() + 60
        while time.time() < deadline:
            confirmed = psql.scalar(f"SELECT confirmed_flush_lsn >= '{written_to}' FROM pg_replication_slots "
                                    f"WHERE slot_name = '{stream.slot}'")
            if confirmed == "t":
                break
            time.sleep(0.5)
        assert confirmed == "t", "the slot kept WAL of an unpublished table"
    finally:
        running.send_signal(signal.SIGTERM)
        running.communicate(timeout=60)
    from kafka.admin import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)
    assert stream.topic not in admin.list_topics()  # no change of the published table, no message
    admin.close()


def test_status_shows_the_lag_and_a_limit_drops_the_slot(stream, psql):
    psql.query(f"INSERT INTO {stream.table} VALUES (1, 'a', 1, 1, true)")
    stream.run()
    psql.query(f"UPDATE {stream.table} SET n = 2")
    time.sleep(1.2)
    psql.query(f"INSERT INTO {stream.table} SELECT g, 'b', 1, 1, true FROM generate_series(2, 20000) g")
    _, summary, _ = stream.status()
    assert summary["active"] == "no" and int(summary["lag bytes"]) > 1_000_000
    assert float(summary["lag seconds"]) >= 1.0  # the oldest change not yet stored waited that long
    result, _, notes = stream.status("--max-lag", "64KB", check=False)
    assert result.returncode == 1 and any("over the limit" in n for n in notes), result.stderr
    assert stream.slot_exists()
    result, _, notes = stream.status("--max-lag", "64KB", "--drop-over-limit")
    assert any("dropped" in n for n in notes) and not stream.slot_exists()
    # The stream starts over with a snapshot, and says why.
    summary, notes = stream.run()
    assert summary["snapshot taken"] == "yes" and any("new snapshot" in n for n in notes), notes
    _, summary, _ = stream.status()
    assert summary["lag seconds"].startswith("0")
    assert stream.replayed() == stream.source_rows()


def test_copy_from_a_change_stream_is_one_batch_run(stream, psql, datalab):
    psql.query(f"INSERT INTO {stream.table} VALUES (1, 'a', 1, 1, true)")
    result = datalab.run("--format", "json", "copy", stream.source, stream.target, check=False)
    assert result.returncode == 0, result.stderr
    summary = next(s["summary"] for s in json.loads(result.stdout) if "summary" in s)
    assert summary["snapshot rows"] == "1" and len(stream.messages()) == 1
    result = datalab.run("copy", stream.source, stream.target, "--mode", "replace", check=False)
    assert result.returncode == 2 and "--mode" in result.stderr


def test_bad_sources_and_targets_are_refused_by_name(datalab, psql):
    tag = uuid.uuid4().hex[:8]
    result = datalab.run("cdc", "run", f"postgres+cdc:///?publication=nope_{tag}", f"kafka://{BOOTSTRAP}/x",
                         check=False)
    assert result.returncode == 2 and f"publication nope_{tag} does not exist" in result.stderr
    assert "?tables=" in result.stderr
    result = datalab.run("cdc", "run", "postgres+cdc:///?publication=p&slot=Bad-Name", f"kafka://{BOOTSTRAP}/x",
                         check=False)
    assert result.returncode == 2 and "?slot=Bad-Name" in result.stderr
    result = datalab.run("cdc", "run", "postgres+cdc:///?publication=p", "s3://lake/changes/", check=False)
    assert result.returncode == 2 and "changes go to Kafka" in result.stderr
    result = datalab.run("cdc", "run", "postgres+cdc:///?publication=p", "postgres:///?table=public.t", check=False)
    assert result.returncode == 2 and "?schema=" in result.stderr
    # Into the very tables it reads: refused before anything is written.
    psql.query(f"CREATE SCHEMA cdc_self_{tag}; CREATE TABLE cdc_self_{tag}.t (id int PRIMARY KEY); "
               f"INSERT INTO cdc_self_{tag}.t VALUES (1)")
    source = f"postgres+cdc:///?publication=self_{tag}&slot=self_{tag}&tables=cdc_self_{tag}.t"
    try:
        result = datalab.run("cdc", "run", source, "postgres:///", "--until-caught-up", check=False)
        assert result.returncode == 2 and "is the published table itself" in result.stderr, result.stderr
        assert psql.scalar(f"SELECT count(*) FROM cdc_self_{tag}.t") == "1"
    finally:
        datalab.run("cdc", "drop", source, "postgres:///", check=False)
        psql.query(f"DROP SCHEMA cdc_self_{tag} CASCADE")
        drop_positions_if_empty(psql)
    result = datalab.run("cdc", "run", "postgres:///?table=public.t", f"kafka://{BOOTSTRAP}/x", check=False)
    assert result.returncode == 2 and "postgres+cdc://" in result.stderr
    assert psql.scalar(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'datalab_nope_{tag}%'") == "0"


def test_changes_applied_to_postgres_tables_by_key_end_equal_to_the_source(stream, psql):
    big = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400))"  # TOASTed out of line
    psql.query(f"ALTER TABLE {stream.table} ADD COLUMN doc text")
    psql.query(f"INSERT INTO {stream.table} SELECT g, md5(g::text), g, g / 8.0, g % 3 = 0, "
               f"CASE WHEN g <= 5 THEN {big} END FROM generate_series(1, 5000) g")
    replica = f"{stream.schema}_replica.items"
    summary, _ = stream.run(target=stream.replica)
    assert summary["snapshot rows"] == "5000"
    assert stream.checksum(replica) == stream.checksum(stream.table)
    assert psql.scalar(f"SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a "
                       f"ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                       f"WHERE i.indrelid = '{replica}'::regclass AND i.indisprimary") == "id"

    # Updates that leave the large values alone (the server does not resend them), in one
    # batch with an insert of a large value and its update; deletes, a new key, a truncate-free
    # large transaction, a column added.
    psql.query(f"""UPDATE {stream.table} SET n = -n WHERE id <= 5;
                   INSERT INTO {stream.table} VALUES (9000, 'big', 1, 1, true, {big});
                   UPDATE {stream.table} SET v = 'touched' WHERE id = 9000;
                   DELETE FROM {stream.table} WHERE id BETWEEN 100 AND 199;
                   UPDATE {stream.table} SET id = 7000 WHERE id = 200;
                   UPDATE {stream.table} SET amount = amount + 1;
                   ALTER TABLE {stream.table} ADD COLUMN extra jsonb;
                   UPDATE {stream.table} SET extra = '{{"k": [1, 2]}}' WHERE id % 10 = 0""")
    stream.run(target=stream.replica)
    assert stream.checksum(replica) == stream.checksum(stream.table)
    assert psql.scalar(f"SELECT count(*) FROM {replica} WHERE id <= 5 AND length(doc) = 12800") == "5"

    # Killed mid-stream under load, then resumed: the same table again.
    busy = writer(psql, f"""INSERT INTO {stream.table} (id, v, n) VALUES (100000 + i, 'w', i);
                            UPDATE {stream.table} SET n = n + 1 WHERE id = 1000 + i;
                            DELETE FROM {stream.table} WHERE id = 4000 + i;""", 800)
    try:
        running = stream.start(target=stream.replica)
        time.sleep(2.5)
        running.send_signal(signal.SIGKILL)
        running.wait()
        assert running.returncode == -signal.SIGKILL
    finally:
        assert busy.wait(timeout=300) == 0, busy.stderr.read()
    psql.query(f"TRUNCATE {stream.table}; INSERT INTO {stream.table} (id, v) VALUES (1, 'after truncate')")
    summary, _ = stream.run(target=stream.replica)
    assert summary["snapshot taken"] == "no"
    assert stream.checksum(replica) == stream.checksum(stream.table)
    assert int(psql.scalar("SELECT count(*) FROM datalab.cdc_positions")) >= 1


def restart(service):
    script = os.path.join(ROOT, "services", f"{service}.sh")
    subprocess.run([script, "stop"], check=True, capture_output=True, timeout=180)
    time.sleep(2)
    subprocess.run([script, "start"], check=True, capture_output=True, timeout=180)


def wait_until(condition, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


def test_a_long_running_stream_outlives_a_broker_restart(stream, psql):
    psql.query(f"INSERT INTO {stream.table} SELECT g, 'v', 0, g, true FROM generate_series(1, 2000) g")
    stream.run()
    busy = writer(psql, f"""INSERT INTO {stream.table} VALUES (10000 + i, 'new', i, i, false);
                            UPDATE {stream.table} SET n = n + 1 WHERE id = i;""", 2000, pause="0.004")
    running = stream.start(None, "--retry-seconds", "1")
    try:
        time.sleep(2)
        restart("kafka")
        assert busy.wait(timeout=300) == 0, busy.stderr.read()
        # It catches up by itself once the broker is back.
        assert wait_until(lambda: stream.replayed() == stream.source_rows()), "the stream did not catch up"
        assert running.poll() is None, "the stream ended instead of resuming"
    finally:
        subprocess.run([os.path.join(ROOT, "services", "kafka.sh"), "start"], capture_output=True, timeout=180)
        running.send_signal(signal.SIGTERM)
        _, err = running.communicate(timeout=60)
    # librdkafka's retries usually ride out a short restart; a longer one makes the stream
    # resume from the stored position. Either way: every change once.
    assert running.returncode == 0, err
    changes = [c for c in stream.changes() if c["op"] != "r"]
    seen = [(c["source"]["lsn"], c["op"], json.dumps(c["after"] or c["before"], default=str)) for c in changes]
    assert len(seen) == len(set(seen)) == 4000


def test_a_long_running_stream_into_tables_outlives_a_database_restart(stream, psql):
    psql.query(f"INSERT INTO {stream.table} SELECT g, 'v', 0, g, true FROM generate_series(1, 5000) g")
    replica = f"{stream.schema}_replica.items"
    stream.run(target=stream.replica)
    running = stream.start(stream.replica, "--retry-seconds", "1")
    try:
        psql.query(f"UPDATE {stream.table} SET n = n + 1 WHERE id % 2 = 0")
        time.sleep(0.3)
        restart("postgres")  # source and target both: the same server here
        psql.query(f"DELETE FROM {stream.table} WHERE id > 4000; "
                   f"INSERT INTO {stream.table} VALUES (9001, 'after restart', 1, 1, true)")
        assert wait_until(lambda: stream.checksum(replica) == stream.checksum(stream.table)), \
            "the replica did not catch up after the restart"
        assert running.poll() is None, "the stream ended instead of resuming"
    finally:
        running.send_signal(signal.SIGTERM)
        _, err = running.communicate(timeout=60)
    assert running.returncode == 0, err
    assert "resuming" in err


def test_a_stream_that_cannot_store_drops_its_slot_over_the_limit(stream, psql):
    psql.query(f"INSERT INTO {stream.table} VALUES (1, 'a', 1, 1, true)")
    replica = f"{stream.schema}_replica.items"
    stream.run(target=stream.replica)
    running = stream.start(stream.replica, "--retry-seconds", "1", "--max-lag", "1MB", "--drop-over-limit")
    try:
        # The target refuses the next change (a CHECK the source does not have) time after time,
        # while the source writes on: the slot holds ever more WAL.
        psql.query(f"ALTER TABLE {replica} ADD CHECK (n < 100)")
        psql.query(f"UPDATE {stream.table} SET n = 1000")
        psql.query(f"CREATE TABLE {stream.schema}.other AS SELECT g, repeat('x', 500) AS pad "
                   "FROM generate_series(1, 10000) g")
        _, err = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 1, err
    assert "violates check constraint" in err and "over the limit" in err and "dropped" in err
    assert not stream.slot_exists()
    assert psql.scalar(f"SELECT n FROM {replica}") == "1"  # the refused change was not half applied


def test_a_stream_storing_every_millisecond_keeps_reading_inside_large_transactions(stream, psql):
    # A commit may be due while the next transaction has arrived only in part: the stream must
    # go on reading the socket, not spin on what it has (it once did, and never caught up).
    psql.query(f"INSERT INTO {stream.table} SELECT g, 'v', 0, g, true FROM generate_series(1, 1000) g")
    stream.run()
    busy = writer(psql, f"UPDATE {stream.table} SET n = n + 1;", 300, pause="0.001")
    try:
        summary, _ = stream.run("--flush-interval-ms", "1")
    finally:
        assert busy.wait(timeout=300) == 0, busy.stderr.read()
    stream.run()
    assert int(summary["changes"]) > 0
    assert stream.replayed() == stream.source_rows()
