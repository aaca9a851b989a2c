"""cdc benchmark: `datalab cdc run` (PostgreSQL logical replication, pgoutput -> Kafka) against
the server's own decoding limit and Debezium's PostgreSQL connector, side by side in one run.

One table, bench_cdc.items (--rows rows, default 1 M: id bigint primary key, qty int, price
numeric(12,2), note text, updated_at timestamptz), is generated when missing (--recreate:
always). Each approach has its own slot (and publication) for its own block of the run, made
just before it and dropped just after it, so no other approach's writes are ever in its WAL
backlog. Each measurement gets fresh updates: the writer updates every row once, in
transactions of --batch rows (`UPDATE … SET qty = qty + 1, updated_at = clock_timestamp()
WHERE id BETWEEN a AND b`, autocommit per statement), after a VACUUM and a CHECKPOINT
(autovacuum is off for the table, so every pass starts from the same state).

  peek         SELECT count(*) FROM pg_logical_slot_peek_binary_changes(slot, <WAL end>, NULL,
               'proto_version', '1', 'publication_names', P): the same decoding in one backend with
               no client and no network (the slot does not move), run first on each pass.
  limit        pg_recvlogical --start --endpos=<WAL end after the writer> --no-loop
               -o proto_version=1 -o publication_names=P -f FILE: the walsender decoding the
               N updates with pgoutput, written to a file; the file is parsed afterwards and
               its 'U' messages counted (must be N). The slot is moved to the WAL end with
               pg_replication_slot_advance before each pass.
  datalab      snapshot first (`datalab cdc run --until-caught-up` once, untimed), then for
               each measurement:
               batch: the writer commits the N updates, then `datalab cdc run … --until-caught-up`
                      is timed from its start until it exits.
               lag:   `datalab cdc run …` streams (long-running) while the writer runs; the lag is
                      the time from the writer's last commit until the last change is in Kafka
                      (the topic's read_committed end offset, sampled every 20 ms, reaching its
                      final value once the slot's confirmed position passed the writer's end).
  Debezium     Kafka Connect standalone (connect-runtime, the broker's version) with
               io.debezium:debezium-connector-postgres (jars from Maven Central, bench/cdc/connect.sh,
               cached under ~/.cache/datalab/debezium/…): plugin.name=pgoutput, its own slot and
               publication (publication.autocreate.mode=filtered), snapshot.mode=initial, the
               JSON converter with schemas disabled, otherwise its defaults. Snapshot first
               (untimed: the worker runs until the topic holds the N snapshot records), then
               batch: the worker is stopped (SIGTERM, offsets flushed), the writer commits the
                      N updates, and the worker started again is timed from its start until the
                      topic holds N more records (its producer is not transactional: the end
                      offset counts records exactly).
               lag:   the worker streams while the writer runs; as for datalab.
The walsender's CPU time (the server process that decodes for the slot) is sampled from /proc
for each measurement. Every measurement's change messages are counted afterwards with kcat (read_committed, the
messages with "op":"u" after the offset where it started): each must be N.

    services/ctl start postgres kafka
    ~/.cache/datalab/venv/bin/python bench/cdc/run.py [--rows 1000000] [--repeat 1] [--batch 10000]
        [--only limit,datalab,datalab-pg,debezium] [--keep] [--recreate]
"""
import argparse
import collections
import datetime
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time

import psycopg2
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ)
ENV.setdefault("DB_HOST", "127.0.0.1")
ENV.setdefault("DB_PORT", "10452")
ENV.setdefault("POSTGRES_DB", "it_one")
ENV.setdefault("POSTGRES_USER", "it_one")
ENV.setdefault("POSTGRES_PASSWORD", "it_one")
ENV["PGPASSWORD"] = ENV["POSTGRES_PASSWORD"]
ENV["PGOPTIONS"] = "-c client_min_messages=warning"
BOOTSTRAP = ENV.get("BOOTSTRAP_SERVER", "127.0.0.1:9092").split(",")[0]
SCHEMA = "bench_cdc"
TABLE = f"{SCHEMA}.items"
WORK = "/tmp/bench-cdc"
PG_BIN = "/usr/lib/postgresql/15/bin"
CONNECT_VERSION = os.environ.get("CONNECT_VERSION", "4.1.2")
DEBEZIUM_VERSION = os.environ.get("DEBEZIUM_VERSION", "3.6.1.Final")
CONNECT_PORT = 10483  # the worker's REST listener (127.0.0.1)
POSITIONS_TOPIC = "datalab-cdc-positions"  # datalab's (shared); removed only when this run made it

# Each approach's names: slot, publication, Kafka prefix and the topic its changes go to.
DL = dict(slot="bench_cdc_datalab", pub="bench_cdc_datalab", prefix="benchcdc")
DL["topic"] = f"{DL['prefix']}.{TABLE}"
DLPG = dict(slot="bench_cdc_datalab_pg", pub="bench_cdc_datalab_pg", replica=f"{SCHEMA}_replica")
RECV = dict(slot="bench_cdc_recvlogical", pub="bench_cdc_recvlogical")
DBZ = dict(slot="bench_cdc_debezium", pub="bench_cdc_debezium", prefix="benchcdcdbz")
DBZ["topic"] = f"{DBZ['prefix']}.{TABLE}"


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def pg():
    c = psycopg2.connect(host=ENV["DB_HOST"], port=ENV["DB_PORT"], user=ENV["POSTGRES_USER"],
                         password=ENV["POSTGRES_PASSWORD"], dbname=ENV["POSTGRES_DB"])
    c.autocommit = True
    return c


def sql(q, args=None):
    c = pg()  # (not `with c`: psycopg2's connection context opens a transaction even in autocommit)
    try:
        cur = c.cursor()
        cur.execute(q, args)
        return cur.fetchall() if cur.description else None
    finally:
        c.close()


def one(q, args=None):
    return sql(q, args)[0][0]


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def cdc_url(x):
    return (f"postgres+cdc://{ENV['POSTGRES_USER']}:{ENV['POSTGRES_PASSWORD']}@{ENV['DB_HOST']}:{ENV['DB_PORT']}/"
            f"{ENV['POSTGRES_DB']}?publication={x['pub']}&slot={x['slot']}&tables={TABLE}")


def kafka_url(x):
    return f"kafka://{BOOTSTRAP}/{x['prefix']}"


# ---------------------------------------------------------------- the table and the writer

def make_table(n, recreate):
    have = one("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
    if not recreate and have and one(f"SELECT count(*) FROM {TABLE}") == n:
        return
    log(f"generating {TABLE}: {n:,} rows")
    sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    sql(f"""CREATE TABLE {TABLE} (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(12,2) NOT NULL,
            note text, updated_at timestamptz NOT NULL) WITH (autovacuum_enabled = false);
            INSERT INTO {TABLE}
            SELECT g, (g * 7919) % 1000, ((g * 2654435761) % 1000000) / 100.0,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 'note ' || substr(md5(g::text), 1, 25) END,
                   timestamptz '2024-01-01 00:00:00+00' + g * interval '3 seconds'
            FROM generate_series(1::bigint, {n}) g""")
    sql(f"VACUUM ANALYZE {TABLE}")


def prepare_writes():
    """The same starting state for every pass: dead tuples of the last pass vacuumed, WAL checkpointed."""
    sql(f"VACUUM {TABLE}")
    sql("CHECKPOINT")


def write_updates(n, batch):
    """Updates every row once, `batch` rows per transaction; returns (start, end) perf_counter
    times (end: the last commit returned) and the WAL insert position after it."""
    c = pg()
    cur = c.cursor()
    start = time.perf_counter()
    for lo in range(1, n + 1, batch):
        cur.execute(f"UPDATE {TABLE} SET qty = qty + 1, updated_at = clock_timestamp() WHERE id BETWEEN %s AND %s",
                    (lo, min(n, lo + batch - 1)))
    end = time.perf_counter()
    cur.execute("SELECT pg_current_wal_lsn()::text")
    lsn = cur.fetchone()[0]
    c.close()
    return start, end, lsn


# ---------------------------------------------------------------- Kafka

def admin():
    return KafkaAdminClient(bootstrap_servers=BOOTSTRAP)


def topics():
    a = admin()
    try:
        return set(a.list_topics())
    finally:
        a.close()


def delete_topics(names):
    names = [t for t in names if t in topics()]
    if not names:
        return
    a = admin()
    try:
        a.delete_topics(names)
    except Exception as e:  # noqa: BLE001
        log(f"cleanup: deleting topics {names}: {e}")
    finally:
        a.close()


class EndOffsets:
    """The read_committed end offset of one topic's partition 0, sampled in a thread every
    `interval` s as (perf_counter time, offset) — cheap (a ListOffsets request), so it does not
    compete with what it watches the way a consuming client would."""

    def __init__(self, topic, interval=0.02):
        self.tp = TopicPartition(topic, 0)
        self.interval = interval
        self.samples = []
        self.c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, isolation_level="read_committed",
                               enable_auto_commit=False)
        self._stop = threading.Event()
        self._t = None

    def now(self):
        if self.tp.topic not in self.c.topics():
            return 0
        return self.c.end_offsets([self.tp])[self.tp]

    def start(self):
        def loop():
            while not self._stop.is_set():
                try:
                    off = self.now()
                except Exception:  # noqa: BLE001 (topic not there yet, metadata refresh)
                    off = 0
                self.samples.append((time.perf_counter(), off))
                self._stop.wait(self.interval)
        self._t = threading.Thread(target=loop, daemon=True)
        self._t.start()
        return self

    def last(self):
        return self.samples[-1][1] if self.samples else 0

    def wait_for(self, target, timeout, alive=lambda: True):
        """Waits until the sampled offset reaches target; returns the time of the first such sample."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            t = self.first_at_least(target)
            if t is not None:
                return t
            if not alive():
                return None
            time.sleep(self.interval)
        return None

    def first_at_least(self, target):
        return next((t for t, o in list(self.samples) if o >= target), None)

    def first_above(self, base):
        return next((t for t, o in list(self.samples) if o > base), None)

    def stop(self):
        self._stop.set()
        if self._t:
            self._t.join()
        self.c.close()


def end_offset(topic):
    e = EndOffsets(topic)
    try:
        return e.now()
    finally:
        e.c.close()


def count_ops(topic, start_offset):
    """{op: count} of the committed messages of topic from start_offset on (kcat, read_committed)."""
    p = subprocess.run(f"kcat -C -b {BOOTSTRAP} -t {topic} -p 0 -o {start_offset} -e -q "
                       f"-X isolation.level=read_committed -f '%s\\n' | grep -o '\"op\":\"[a-z]\"' | sort | uniq -c",
                       shell=True, capture_output=True, text=True)
    ops = {}
    for line in p.stdout.splitlines():
        m = re.match(r'\s*(\d+) "op":"([a-z])"', line)
        if m:
            ops[m.group(2)] = int(m.group(1))
    return ops


# ---------------------------------------------------------------- processes

def proc_cpu_rss(pid):
    """(CPU s user+sys, peak RSS MiB) of a live process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{pid}/status") as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
        return cpu, hwm
    except (OSError, AttributeError):
        return None, None


def timed(cmd, env=ENV):
    """(wall s, peak RSS MiB, CPU s, stdout, stderr, rc) of cmd under GNU time."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    rss = int(m.group(1)) / 1024 if m else None
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", r.stderr)) or None
    err = r.stderr.split("\tCommand being timed")[0]
    return wall, rss, cpu, r.stdout, err, r.returncode


def stop_process(p, timeout=60):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return p.returncode


def slot_state(slot):
    r = sql("SELECT active, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return (r[0][0], lsn_int(r[0][1]) if r[0][1] else 0) if r else (False, 0)


class WalCpu:
    """CPU seconds (user+sys) that the slot's walsender (the server process decoding the WAL
    with pgoutput) spends between start() and stop(): its active_pid sampled every 50 ms, its
    /proc CPU time read each time (a walsender that was already there counts from start())."""

    def __init__(self, slot):
        self.slot, self.base, self.last = slot, {}, {}
        self._stop = threading.Event()
        self.c = pg()

    def _pid(self):
        cur = self.c.cursor()
        cur.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (self.slot,))
        r = cur.fetchone()
        return r[0] if r else None

    def start(self):
        pid = self._pid()
        if pid:
            self.base[pid] = proc_cpu_rss(pid)[0] or 0

        def loop():
            while not self._stop.is_set():
                pid = self._pid()
                if pid:
                    cpu = proc_cpu_rss(pid)[0]
                    if cpu is not None:
                        self.last[pid] = cpu
                self._stop.wait(0.05)
        self._t = threading.Thread(target=loop, daemon=True)
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join()
        self.c.close()
        return sum(v - self.base.get(k, 0) for k, v in self.last.items()) if self.last else None


def wait_slot_active(slot, timeout, p=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if slot_state(slot)[0]:
            return True
        if p is not None and p.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def drop_slot_and_publication(x):
    for _ in range(40):
        r = sql("SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = %s", (x["slot"],))
        if not r:
            break
        if not r[0][0]:
            sql("SELECT pg_drop_replication_slot(%s)", (x["slot"],))
            break
        time.sleep(0.25)
    sql(f"DROP PUBLICATION IF EXISTS {x['pub']}")


# ---------------------------------------------------------------- the limit: pg_recvlogical

def parse_pgoutput(path):
    """Counts the messages pg_recvlogical wrote (each followed by a newline): {type: count}.
    Parses pgoutput v1 so a newline byte inside a tuple is never taken for a boundary."""
    counts = {}
    with open(path, "rb") as f:
        data = f.read()
    i, n = 0, len(data)

    def tuple_end(j):
        cols = struct.unpack_from(">h", data, j)[0]
        j += 2
        for _ in range(cols):
            kind = data[j:j + 1]
            j += 1
            if kind in (b"t", b"b"):
                ln = struct.unpack_from(">i", data, j)[0]
                j += 4 + ln
        return j

    while i < n:
        t = data[i:i + 1]
        counts[t.decode()] = counts.get(t.decode(), 0) + 1
        j = i + 1
        if t == b"B":
            j += 20
        elif t == b"C":
            j += 25
        elif t == b"U":
            j += 4
            while data[j:j + 1] in (b"K", b"O"):
                j = tuple_end(j + 1)
            j = tuple_end(j + 1)  # 'N'
        elif t in (b"I",):
            j = tuple_end(j + 5)
        elif t == b"D":
            j = tuple_end(j + 5)
        elif t == b"R":  # relid, namespace\0, name\0, replident, ncols, (flags, name\0, type oid, typmod)*
            j = data.index(b"\0", data.index(b"\0", j + 4) + 1) + 2
            cols = struct.unpack_from(">h", data, j)[0]
            j += 2
            for _ in range(cols):
                j = data.index(b"\0", j + 1) + 9
        else:  # R (relation), Y (type), O (origin), T (truncate): up to the newline pg_recvlogical adds
            j = data.index(b"\n", j)
        if data[j:j + 1] != b"\n":
            raise ValueError(f"pgoutput parse lost its place at byte {j} (message {t!r} at {i})")
        i = j + 1
    return counts


def run_limit(a, res):
    x = RECV
    drop_slot_and_publication(x)
    sql(f"CREATE PUBLICATION {x['pub']} FOR TABLE {TABLE}")
    sql("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (x["slot"],))
    out = f"{WORK}/recvlogical.out"
    try:
        for r in range(a.repeat):
            sql("SELECT pg_replication_slot_advance(%s, pg_current_wal_lsn())", (x["slot"],))
            prepare_writes()
            w0, w1, endpos = write_updates(a.rows, a.batch)
            log(f"limit run {r + 1}: writer {w1 - w0:.2f} s, endpos {endpos}")
            # the server decoding alone, in one backend, no client: peek (the slot does not move)
            c = pg()
            cur = c.cursor()
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
            cpu0 = proc_cpu_rss(backend)[0]
            t = time.perf_counter()
            cur.execute("SELECT count(*) FILTER (WHERE get_byte(data, 0) = 85) FROM "
                        "pg_logical_slot_peek_binary_changes(%s, %s::pg_lsn, NULL, 'proto_version', '1', "
                        "'publication_names', %s)", (x["slot"], endpos, x["pub"]))
            peeked = cur.fetchone()[0]
            peek = time.perf_counter() - t
            cpu1 = proc_cpu_rss(backend)[0]
            c.close()
            log(f"limit run {r + 1}: peek {peek:.2f} s, backend CPU {cpu1 - cpu0:.2f} s, {peeked:,} updates")
            if peeked != a.rows:
                res.fail("peek", f"peeked {peeked:,} updates, expected {a.rows:,}")
            else:
                res.add("peek", seconds=peek, wal=cpu1 - cpu0)
            cmd = [f"{PG_BIN}/pg_recvlogical", "-h", ENV["DB_HOST"], "-p", ENV["DB_PORT"], "-U", ENV["POSTGRES_USER"],
                   "-d", ENV["POSTGRES_DB"], "--slot", x["slot"], "--start", f"--endpos={endpos}", "--no-loop",
                   "-o", "proto_version=1", "-o", f"publication_names={x['pub']}", "-F", "0", "-f", out]
            ws = WalCpu(x["slot"]).start()
            wall, rss, cpu, _, err, rc = timed(cmd)
            wcpu = ws.stop()
            if rc != 0:
                res.fail("limit", f"pg_recvlogical exited {rc}: {err.strip()[-500:]}")
                return
            counts = parse_pgoutput(out)
            size = os.path.getsize(out) / 2**20
            os.remove(out)
            log(f"limit run {r + 1}: {wall:.2f} s, {cpu} CPU s, {rss:.0f} MiB, {size:.0f} MiB of pgoutput, {counts}")
            if counts.get("U", 0) != a.rows:
                res.fail("limit", f"decoded {counts.get('U', 0):,} updates, expected {a.rows:,}")
                return
            res.add("limit", seconds=wall, cpu=cpu, rss=rss, wal=wcpu, writer=w1 - w0, mib=size, txns=counts.get("C", 0))
    finally:
        if not a.keep:
            drop_slot_and_publication(x)
            if os.path.exists(out):
                os.remove(out)


# ---------------------------------------------------------------- datalab

def datalab_cleanup(a, positions_existed):
    subprocess.run([a.datalab, "cdc", "drop", cdc_url(DL), kafka_url(DL)], env=ENV, capture_output=True)
    drop_slot_and_publication(DL)
    delete_topics([DL["topic"]] + ([] if positions_existed else [POSITIONS_TOPIC]))


def run_datalab(a, res):
    positions_existed = POSITIONS_TOPIC in topics()
    datalab_cleanup(a, True)  # a left-over of an earlier --keep run: slot, publication, stored position
    delete_topics([DL["topic"]])
    try:
        wall, rss, cpu, out, err, rc = timed([a.datalab, "cdc", "run", cdc_url(DL), kafka_url(DL), "--until-caught-up"])
        if rc != 0:
            res.fail("datalab batch", f"snapshot: exit {rc}: {err.strip()[-500:]}")
            res.fail("datalab lag", "no snapshot")
            return
        res.snapshot["datalab"] = wall
        log(f"datalab snapshot: {wall:.2f} s, {rss:.0f} MiB, CPU {cpu:.2f} s")
        snap = count_ops(DL["topic"], 0)
        if snap.get("r", 0) != a.rows:
            res.fail("datalab batch", f"snapshot wrote {snap}, expected {a.rows:,} op=r")
        for r in range(a.repeat):
            # batch: the updates committed first, then one --until-caught-up run, timed
            prepare_writes()
            w0, w1, _ = write_updates(a.rows, a.batch)
            base = end_offset(DL["topic"])
            # WAL between the slot's restart_lsn and its confirmed position: decoded again, and thrown
            # away, before the first new change (the server keeps restart_lsn where the last run left it)
            behind = one("SELECT pg_wal_lsn_diff(confirmed_flush_lsn, restart_lsn) FROM pg_replication_slots "
                         "WHERE slot_name = %s", (DL["slot"],))
            mon = EndOffsets(DL["topic"]).start()
            ws = WalCpu(DL["slot"]).start()
            t0 = time.perf_counter()
            wall, rss, cpu, out, err, rc = timed([a.datalab, "cdc", "run", cdc_url(DL), kafka_url(DL),
                                                  "--until-caught-up"])
            time.sleep(0.1)  # a sample after its last commit
            first = mon.first_above(base)
            mon.stop()
            wcpu = ws.stop()
            if rc != 0:
                res.fail("datalab batch", f"exit {rc}: {err.strip()[-500:]}")
                break
            ops = count_ops(DL["topic"], base)
            reported = re.search(r"changes\s+\|\s+(\d+)", out)
            log(f"datalab batch run {r + 1}: restart_lsn {int(behind) / 2**20:.0f} MiB behind the confirmed "
                f"position; writer {w1 - w0:.2f} s; {wall:.2f} s, {rss:.0f} MiB, CPU {cpu:.2f} s, "
                f"reported {reported.group(1) if reported else '?'} changes, topic {ops}")
            if ops.get("u", 0) != a.rows:
                res.fail("datalab batch", f"{ops.get('u', 0):,} updates in the topic, expected {a.rows:,}")
                break
            res.add("datalab batch", seconds=wall, cpu=cpu, rss=rss, wal=wcpu, behind=int(behind) / 2**20, writer=w1 - w0,
                    first=(first - t0) if first else None)
        for r in range(a.repeat):
            # lag: datalab streams while the writer runs
            prepare_writes()
            base = end_offset(DL["topic"])
            errf = open(f"{WORK}/datalab-stream.err", "w")
            p = subprocess.Popen([a.datalab, "cdc", "run", cdc_url(DL), kafka_url(DL)], env=ENV,
                                 stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
            try:
                if not wait_slot_active(DL["slot"], 60, p):
                    res.fail("datalab lag", f"did not start streaming: {open(errf.name).read()[-500:]}")
                    break
                time.sleep(1)
                cpu0, _ = proc_cpu_rss(p.pid)
                mon = EndOffsets(DL["topic"]).start()
                ws = WalCpu(DL["slot"]).start()
                w0, w1, wend = write_updates(a.rows, a.batch)
                target = lsn_int(wend)
                # done: the slot's confirmed position passed the writer's end, or the topic stood still 10 s
                deadline = time.time() + 1800
                while time.time() < deadline and slot_state(DL["slot"])[1] < target and p.poll() is None:
                    moved = [t for t, o in list(mon.samples) if o != mon.last()]
                    if moved and time.perf_counter() - moved[-1] > 10 and time.perf_counter() - w1 > 10:
                        break
                    time.sleep(0.05)
                time.sleep(1.0)  # the end offset settles (the last transaction is committed before the confirm)
                cpu1, rss = proc_cpu_rss(p.pid)
                final = mon.last()
                last = mon.first_at_least(final)
                mon.stop()
                wcpu = ws.stop()
            finally:
                rc = stop_process(p)
                errf.close()
            ops = count_ops(DL["topic"], base)
            lag = last - w1
            log(f"datalab lag run {r + 1}: writer {w1 - w0:.2f} s, last change {lag:+.2f} s after it, "
                f"CPU {cpu1 - cpu0:.2f} s, exit {rc}, topic {ops}")
            if ops.get("u", 0) != a.rows:
                res.fail("datalab lag", f"{ops.get('u', 0):,} updates in the topic, expected {a.rows:,}; "
                         f"{open(errf.name).read()[-300:]}")
                break
            res.add("datalab lag", seconds=last - w0, lag=lag, writer=w1 - w0, cpu=cpu1 - cpu0, rss=rss, wal=wcpu)
    finally:
        if not a.keep:
            datalab_cleanup(a, positions_existed)


def replica_url():
    return (f"postgres://{ENV['POSTGRES_USER']}:{ENV['POSTGRES_PASSWORD']}@{ENV['DB_HOST']}:{ENV['DB_PORT']}/"
            f"{ENV['POSTGRES_DB']}?schema={DLPG['replica']}")


def same_rows():
    """The replica holds exactly the source's rows (count and a checksum of every column)."""
    def digest(table):
        return one(f"SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY id)) FROM {table} t")
    return digest(TABLE) == digest(f"{DLPG['replica']}.items")


def datalab_pg_cleanup(a):
    subprocess.run([a.datalab, "cdc", "drop", cdc_url(DLPG), replica_url()], env=ENV, capture_output=True)
    drop_slot_and_publication(DLPG)
    sql(f"DROP SCHEMA IF EXISTS {DLPG['replica']} CASCADE")
    sql("DO $$ BEGIN IF to_regclass('datalab.cdc_positions') IS NOT NULL THEN "
        "IF NOT EXISTS (SELECT 1 FROM datalab.cdc_positions) THEN DROP TABLE datalab.cdc_positions; END IF; END IF; "
        "IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'datalab') AND NOT EXISTS (SELECT 1 FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'datalab') THEN DROP SCHEMA datalab; "
        "END IF; END $$")


def run_datalab_pg(a, res):
    """datalab into PostgreSQL tables (merge by primary key), batch runs: the updates committed,
    then one --until-caught-up run, timed; the replica checked equal to the source after each."""
    datalab_pg_cleanup(a)
    try:
        wall, rss, cpu, out, err, rc = timed([a.datalab, "cdc", "run", cdc_url(DLPG), replica_url(),
                                              "--until-caught-up"])
        if rc != 0:
            res.fail("datalab pg batch", f"snapshot: exit {rc}: {err.strip()[-500:]}")
            return
        res.snapshot["datalab into PostgreSQL"] = wall
        for r in range(a.repeat):
            prepare_writes()
            w0, w1, _ = write_updates(a.rows, a.batch)
            wall, rss, cpu, out, err, rc = timed([a.datalab, "cdc", "run", cdc_url(DLPG), replica_url(),
                                                  "--until-caught-up"])
            if rc != 0:
                res.fail("datalab pg batch", f"exit {rc}: {err.strip()[-500:]}")
                break
            equal = same_rows()
            log(f"datalab into PostgreSQL run {r + 1}: {wall:.2f} s, {rss:.0f} MiB, CPU {cpu:.2f} s, replica "
                f"{'equal to' if equal else 'DIFFERENT from'} the source")
            if not equal:
                res.fail("datalab pg batch", "the replica differs from the source")
                break
            res.add("datalab pg batch", seconds=wall, cpu=cpu, rss=rss, writer=w1 - w0)
    finally:
        if not a.keep:
            datalab_pg_cleanup(a)


# ---------------------------------------------------------------- Debezium on Kafka Connect

def debezium_files():
    d = f"{WORK}/debezium"
    os.makedirs(d, exist_ok=True)
    worker = f"""bootstrap.servers={BOOTSTRAP}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename={d}/connect.offsets
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:{CONNECT_PORT}
plugin.discovery=only_scan
"""
    connector = f"""name=bench-cdc-debezium
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
database.hostname={ENV['DB_HOST']}
database.port={ENV['DB_PORT']}
database.user={ENV['POSTGRES_USER']}
database.password={ENV['POSTGRES_PASSWORD']}
database.dbname={ENV['POSTGRES_DB']}
topic.prefix={DBZ['prefix']}
plugin.name=pgoutput
slot.name={DBZ['slot']}
publication.name={DBZ['pub']}
publication.autocreate.mode=filtered
table.include.list={TABLE}
snapshot.mode=initial
topic.creation.default.replication.factor=1
topic.creation.default.partitions=1
"""
    with open(f"{d}/worker.properties", "w") as f:
        f.write(worker)
    with open(f"{d}/connector.properties", "w") as f:
        f.write(connector)
    return d


def start_connect(d):
    errf = open(f"{d}/connect.out", "a")
    p = subprocess.Popen(["bash", os.path.join(HERE, "connect.sh"), "run", f"{d}/worker.properties",
                          f"{d}/connector.properties"], env=ENV, stdout=errf, stderr=errf, start_new_session=True)
    errf.close()
    return p


def connect_error(d):
    try:
        with open(f"{d}/connect.log") as f:
            lines = [ln for ln in f if "] ERROR " in ln]
        with open(f"{d}/connect.out") as f:
            out = f.read()[-500:]
        return (" ".join(lines[-2:])[-600:] or out).strip()
    except OSError as e:
        return str(e)


def debezium_cleanup(d):
    drop_slot_and_publication(DBZ)
    delete_topics([t for t in topics() if t == DBZ["prefix"] or t.startswith(DBZ["prefix"] + ".")])
    for f in ("connect.offsets", "connect.offsets.tmp"):
        if os.path.exists(f"{d}/{f}"):
            os.remove(f"{d}/{f}")


def run_debezium(a, res):
    log(f"debezium: resolving the jars (Kafka Connect {CONNECT_VERSION}, Debezium {DEBEZIUM_VERSION})")
    r = subprocess.run(["bash", os.path.join(HERE, "connect.sh"), "install"], capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        res.fail("debezium batch", f"the jars could not be resolved: {r.stderr.strip()[-400:]}")
        res.fail("debezium lag", "no jars")
        return
    d = debezium_files()
    debezium_cleanup(d)
    for f in ("connect.log", "connect.out"):
        if os.path.exists(f"{d}/{f}"):
            os.remove(f"{d}/{f}")
    p = None
    try:
        t0 = time.perf_counter()
        p = start_connect(d)
        mon = EndOffsets(DBZ["topic"], 0.1).start()
        done = mon.wait_for(a.rows, 1800, alive=lambda: p.poll() is None)
        mon.stop()
        if done is None:
            why = connect_error(d)
            res.fail("debezium batch", f"no snapshot: {why}")
            res.fail("debezium lag", "no snapshot")
            return
        res.snapshot["debezium"] = done - t0
        log(f"debezium snapshot: {done - t0:.2f} s (from the worker's start)")
        if not wait_slot_active(DBZ["slot"], 120, p):
            res.fail("debezium batch", f"not streaming after its snapshot: {connect_error(d)}")
            return
        time.sleep(3)  # its offsets flushed (offset.flush.interval.ms=1000) before it is stopped
        for r in range(a.repeat):
            # batch: the worker stopped, the updates committed, the worker started again and timed
            rc = stop_process(p)
            log(f"debezium: worker stopped (exit {rc})")
            prepare_writes()
            w0, w1, _ = write_updates(a.rows, a.batch)
            base = end_offset(DBZ["topic"])
            mon = EndOffsets(DBZ["topic"]).start()
            ws = WalCpu(DBZ["slot"]).start()
            t0 = time.perf_counter()
            p = start_connect(d)
            done = mon.wait_for(base + a.rows, 1800, alive=lambda: p.poll() is None)
            first = mon.first_above(base)
            cpu, rss = proc_cpu_rss(java_pid(p))
            mon.stop()
            wcpu = ws.stop()
            if done is None:
                res.fail("debezium batch", f"{end_offset(DBZ['topic']) - base:,} of {a.rows:,} changes: "
                         f"{connect_error(d)}")
                break
            time.sleep(2)
            ops = count_ops(DBZ["topic"], base)
            log(f"debezium batch run {r + 1}: writer {w1 - w0:.2f} s; {done - t0:.2f} s (first change after "
                f"{(first or t0) - t0:.2f} s), CPU {cpu} s, {rss} MiB, topic {ops}")
            if ops.get("u", 0) != a.rows:
                res.fail("debezium batch", f"{ops.get('u', 0):,} updates in the topic, expected {a.rows:,}")
                break
            res.add("debezium batch", seconds=done - t0, cpu=cpu, rss=rss, wal=wcpu, writer=w1 - w0,
                    first=(first - t0) if first else None)
        for r in range(a.repeat):
            # lag: the worker streams while the writer runs
            if p.poll() is not None:
                p = start_connect(d)
            time.sleep(3)
            prepare_writes()
            base = end_offset(DBZ["topic"])
            cpu0, _ = proc_cpu_rss(java_pid(p))
            mon = EndOffsets(DBZ["topic"]).start()
            ws = WalCpu(DBZ["slot"]).start()
            w0, w1, _ = write_updates(a.rows, a.batch)
            done = mon.wait_for(base + a.rows, 1800, alive=lambda: p.poll() is None)
            cpu1, rss = proc_cpu_rss(java_pid(p))
            mon.stop()
            wcpu = ws.stop()
            if done is None:
                res.fail("debezium lag", f"{end_offset(DBZ['topic']) - base:,} of {a.rows:,} changes: "
                         f"{connect_error(d)}")
                break
            time.sleep(2)
            ops = count_ops(DBZ["topic"], base)
            log(f"debezium lag run {r + 1}: writer {w1 - w0:.2f} s, last change {done - w1:+.2f} s after it, "
                f"CPU {cpu1 - cpu0:.2f} s, topic {ops}")
            if ops.get("u", 0) != a.rows:
                res.fail("debezium lag", f"{ops.get('u', 0):,} updates in the topic, expected {a.rows:,}")
                break
            res.add("debezium lag", seconds=done - w0, lag=done - w1, writer=w1 - w0, cpu=cpu1 - cpu0, rss=rss, wal=wcpu)
    finally:
        if p is not None:
            stop_process(p)
        try:
            with open(f"{d}/connect.log") as f:
                found = [m.groups() for m in (re.match(r"\[[^]]*\] (WARN|ERROR) (.{0,100})", ln) for ln in f) if m]
            if found:
                common = collections.Counter(f"{lv} {re.sub(r'[0-9]+', 'N', msg)}" for lv, msg in found).most_common(2)
                res.notes.append(f"Kafka Connect logged {sum(lv == 'WARN' for lv, _ in found):,} WARN and "
                                 f"{sum(lv == 'ERROR' for lv, _ in found):,} ERROR lines; the most common: " +
                                 "; ".join(f"{k.strip()!r} ×{v:,}" for k, v in common))
        except OSError:
            pass
        if not a.keep:
            debezium_cleanup(d)


def java_pid(p):
    """connect.sh execs java, so the worker's pid is the one started."""
    return p.pid


# ---------------------------------------------------------------- the report

class Results:
    def __init__(self):
        self.runs, self.errors, self.snapshot, self.notes = {}, {}, {}, []

    def add(self, key, **kw):
        self.runs.setdefault(key, []).append(kw)

    def fail(self, key, why):
        log(f"{key}: FAILED: {why}")
        self.errors.setdefault(key, why)

    def med(self, key, field):
        v = [r[field] for r in self.runs.get(key, []) if r.get(field) is not None]
        return statistics.median(v) if v else None

    def peak(self, key, field):
        v = [r[field] for r in self.runs.get(key, []) if r.get(field) is not None]
        return max(v) if v else None


def fmt(v, spec=".2f", unit=""):
    return "—" if v is None else f"{v:{spec}}{unit}"


def report(a, res, out):
    n = a.rows
    lim = res.med("limit", "seconds")
    dbz = res.med("debezium batch", "seconds")
    labels = {
        "peek": "server decoding alone: SELECT count(*) FROM pg_logical_slot_peek_binary_changes(…, pgoutput v1)",
        "limit": "limit: pg_recvlogical, pgoutput proto_version=1 → file",
        "datalab batch": "datalab cdc run --until-caught-up (started after the updates)",
        "datalab pg batch": "datalab cdc run --until-caught-up into PostgreSQL tables (merge by key; replica "
                            "checked equal to the source)",
        "debezium batch": f"Debezium {DEBEZIUM_VERSION} on Kafka Connect {CONNECT_VERSION} standalone "
                          "(worker started after the updates)",
    }
    out += [f"**Batch: {n:,} updates committed, then the reader started and timed until all {n:,} are stored** "
            f"(median of {a.repeat}; writer: {fmt(res.med('datalab batch', 'writer') or res.med('limit', 'writer'))} s "
            f"for the {n:,} updates in transactions of {a.batch:,} rows)", "",
            "| approach | seconds | changes/s | first change after | reader CPU s (user+sys) | walsender CPU s | "
            "reader peak memory | changes/s ÷ limit's | changes/s ÷ Debezium's |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in labels.items():
        s = res.med(key, "seconds")
        if s is None:
            why = res.errors.get(key, "not run").replace("|", "/").replace("\n", " ")
            out.append(f"| {label} | failed: {why[:400]} | | | | | | | |")
            continue
        first = res.med(key, "first")
        out.append(f"| {label} | {s:.2f} | {n / s:,.0f} | {fmt(first, '.2f', ' s')} | {fmt(res.med(key, 'cpu'))} | "
                   f"{fmt(res.med(key, 'wal'))} | "
                   f"{fmt(res.peak(key, 'rss'), '.0f', ' MiB')} | {fmt(lim / s if lim else None, '.2f', '×')} | "
                   f"{fmt(dbz / s if dbz else None, '.2f', '×')} |")
    out.append("")
    if res.med("datalab batch", "behind") is not None:
        out += [f"Before each datalab batch run the slot's restart_lsn was {res.med('datalab batch', 'behind'):.0f} MiB "
                "of WAL behind its confirmed position (where the previous --until-caught-up run left it): the "
                "walsender decodes that WAL again, and throws it away, before the first new change; pg_recvlogical's "
                "slot was moved with pg_replication_slot_advance before each pass, Debezium's by its own streaming.",
                ""]
    dbz_lag = res.med("debezium lag", "seconds")
    out += [f"**Under load: the reader streams while the writer commits the {n:,} updates** (median of {a.repeat}; "
            "lag = from the writer's last commit until the last change is in Kafka; changes/s = over the writer's "
            "start → the last change in Kafka)", "",
            "| approach | writer seconds | lag after the writer (s) | changes/s end to end | reader CPU s | "
            "walsender CPU s | changes/s ÷ Debezium's |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in (("datalab lag", "datalab cdc run (streaming)"),
                       ("debezium lag", f"Debezium {DEBEZIUM_VERSION} on Kafka Connect {CONNECT_VERSION}")):
        s = res.med(key, "seconds")
        if s is None:
            why = res.errors.get(key, "not run").replace("|", "/").replace("\n", " ")
            out.append(f"| {label} | failed: {why[:400]} | | | | | |")
            continue
        out.append(f"| {label} | {fmt(res.med(key, 'writer'))} | {fmt(res.med(key, 'lag'))} | {n / s:,.0f} | "
                   f"{fmt(res.med(key, 'cpu'))} | {fmt(res.med(key, 'wal'))} | "
                   f"{fmt(dbz_lag / s if dbz_lag else None, '.2f', '×')} |")
    out.append("")
    if res.snapshot:
        out.append("Snapshots (not timed above): " + ", ".join(
            f"{k} {v:.1f} s for {n:,} rows" for k, v in res.snapshot.items()) + ".")
    for note in res.notes:
        out.append(note + ".")
    for key, why in res.errors.items():
        if key not in res.runs:
            continue
        out.append(f"{key}: a later run failed: {why}")
    out.append("")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000, help="table rows = updates per measurement")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--batch", type=int, default=10_000, help="rows per writer transaction")
    p.add_argument("--datalab", default="/tmp/bench-bin/datalab")
    p.add_argument("--only", default="limit,datalab,datalab-pg,debezium",
                   help="comma-separated: limit, datalab, datalab-pg (into PostgreSQL tables), debezium")
    p.add_argument("--recreate", action="store_true", help="generate the table again")
    p.add_argument("--keep", action="store_true",
                   help="keep the schema, slots, publications, topics and the Connect offsets file")
    a = p.parse_args()
    only = [x for x in a.only.split(",") if x]
    unknown = set(only) - {"limit", "datalab", "datalab-pg", "debezium"}
    if unknown:
        p.error(f"unknown --only {', '.join(sorted(unknown))}")
    os.makedirs(WORK, exist_ok=True)
    make_table(a.rows, a.recreate)
    started = datetime.datetime.now(datetime.timezone.utc)
    out = [f"Run at {started:%Y-%m-%d %H:%M} UTC, datalab binary {a.datalab}, {os.cpu_count()} cores, "
           f"{a.rows:,} rows, writer transactions of {a.batch:,} rows, median of {a.repeat}.", ""]
    res = Results()
    load = [os.getloadavg()[0]]
    try:
        for name in only:
            {"limit": run_limit, "datalab": run_datalab, "datalab-pg": run_datalab_pg,
             "debezium": run_debezium}[name](a, res)
            load.append(os.getloadavg()[0])
    finally:
        if not a.keep:
            sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            if res.errors:
                log(f"logs kept in {WORK} (a measurement failed)")
            else:
                shutil.rmtree(WORK, ignore_errors=True)
    report(a, res, out)
    ended = datetime.datetime.now(datetime.timezone.utc)
    out.append(f"1-minute load average {min(load):.2f}–{max(load):.2f}. Ended {ended:%H:%M} UTC.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
