"""datalab copy with Kafka at one end, on the real broker: a PostgreSQL table into a topic
and a topic into a table. Independent clients check each side: kcat reads the topics,
kafka-python makes topics and sends messages, psql reads the tables."""
import datetime
import decimal
import json
import os
import subprocess
import threading
import uuid

import pytest

kafka = pytest.importorskip("kafka")
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

BOOTSTRAP = os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092")
DB = "postgres:///?table="


def kcat(*args):
    return subprocess.run(["kcat", "-b", BOOTSTRAP, *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def read_topic(topic):
    """Every message of the topic, as kcat -J gives them (payload, key, partition, offset, headers)."""
    return [json.loads(line) for line in kcat("-C", "-J", "-e", "-q", "-t", topic, "-o", "beginning").splitlines()]


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def admin():
    client = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)
    yield client
    client.close()


@pytest.fixture
def topics(admin):
    """Topic names of the test's own; whichever exist at the end are deleted."""
    names = []

    def make(prefix="copy-kafka"):
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        names.append(name)
        return name

    yield make
    existing = set(admin.list_topics())
    gone = [n for n in names if n in existing]
    if gone:
        admin.delete_topics(gone)


@pytest.fixture
def schema(psql):
    name = unique("copy_kafka")
    psql.query(f"CREATE SCHEMA {name}")
    yield name
    psql.drop_schema(name)


def create_topic(admin, name, partitions=1):
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])


def produce(topic, values, partition=0):
    producer = kafka.KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    for value in values:
        producer.send(topic, value=value if isinstance(value, bytes) else json.dumps(value).encode(),
                      partition=partition)
    producer.flush()
    producer.close()


def copy(datalab, *args):
    result = datalab.run("--format", "json", "copy", *args, check=False)
    report = json.loads(result.stdout) if result.stdout.strip() else []
    summary = next((s["summary"] for s in report if "summary" in s), None)
    notes = [s["note"] for s in report if "note" in s]
    return result, summary, notes


def test_a_table_becomes_one_json_message_per_row(datalab, psql, schema, topics, admin):
    psql.query(f"""CREATE TABLE {schema}.t (id int PRIMARY KEY, dec numeric(20,4), f8 double precision, b boolean,
                     t text, d date, ts timestamp, tstz timestamptz, n bigint)""")
    psql.query(f"""INSERT INTO {schema}.t VALUES
        (1, -1234567890123456.7891, -1.5, true, '', '1969-07-20', '1969-07-20 20:17:40.123456',
         '1960-01-01 00:00:00+05', 9223372036854775807),
        (2, 0.0001, 1e-300, false, E'😀 émoji "quoted", comma\\nnew line', '2038-01-19',
         '2999-12-31 23:59:59.999999', '2024-02-29 23:59:59.999999+00', NULL),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    topic = topics()

    # No topic and no --create: refused, nothing made.
    result, _, _ = copy(datalab, f"{DB}{schema}.t", f"kafka://{BOOTSTRAP}/{topic}")
    assert result.returncode == 2 and f"topic {topic} does not exist" in result.stderr and "--create" in result.stderr
    assert topic not in admin.list_topics()

    result, summary, _ = copy(datalab, f"{DB}{schema}.t", f"kafka://{BOOTSTRAP}/{topic}?partitions=2", "--create",
                              "--key", "id")
    assert result.returncode == 0, result.stderr
    assert summary["rows"] == "3" and summary["rejected"] == "0"

    messages = read_topic(topic)
    assert len(messages) == 3
    assert {m["partition"] for m in messages} <= {0, 1}
    assert len(admin.describe_topics([topic])[0]["partitions"]) == 2
    by_key = {m["key"]: json.loads(m["payload"], parse_float=decimal.Decimal) for m in messages}
    assert by_key["1"] == {"id": 1, "dec": decimal.Decimal("-1234567890123456.7891"), "f8": decimal.Decimal("-1.5"),
                           "b": True, "t": "", "d": "1969-07-20", "ts": "1969-07-20 20:17:40.123456",
                           "tstz": "1959-12-31 19:00:00.000000Z", "n": 9223372036854775807}
    assert by_key["2"]["t"] == '😀 émoji "quoted", comma\nnew line'
    assert by_key["2"]["dec"] == decimal.Decimal("0.0001") and float(by_key["2"]["f8"]) == 1e-300
    assert by_key["2"]["n"] is None
    assert datetime.datetime.fromisoformat(by_key["2"]["tstz"].replace("Z", "+00:00")) == \
        datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=datetime.timezone.utc)
    assert by_key["3"] == {"id": 3, **{k: None for k in ("dec", "f8", "b", "t", "d", "ts", "tstz", "n")}}

    # A topic takes only new messages: replace and merge are refused before anything is sent.
    for mode in ("replace", "merge"):
        result, _, _ = copy(datalab, f"{DB}{schema}.t", f"kafka://{BOOTSTRAP}/{topic}", "--mode", mode, "--key", "id")
        assert result.returncode == 2 and "--mode append" in result.stderr, result.stderr
    result, _, _ = copy(datalab, f"{DB}{schema}.t", f"kafka://{BOOTSTRAP}/{topic}", "--incremental", "--cursor", "id")
    assert result.returncode == 2 and "watermark" in result.stderr
    assert len(read_topic(topic)) == 3


VALID = [
    {"id": 1, "name": "Zoë 😀", "amount": 12.5, "ok": True, "note": None},
    {"id": 2, "name": "", "amount": -0.25, "ok": False, "note": "x"},
    {"id": 3, "name": "line\nbreak", "amount": 1e10, "ok": None, "note": None},
]
INVALID = [  # value, a fragment of the reason
    (b"not json {", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"id": "four", "name": "n", "amount": 1.0, "ok": True, "note": None}).encode(), "does not fit"),
    (json.dumps({"id": 5, "name": "n", "amount": 1.0, "ok": True, "note": None, "extra": 1}).encode(),
     "field 'extra'"),
]


def test_a_topic_becomes_a_table_and_bad_messages_are_reported_and_dead_lettered(datalab, psql, schema, topics,
                                                                                    admin):
    topic, dead = topics(), topics("copy-kafka-dlq")
    create_topic(admin, topic)
    create_topic(admin, dead)
    produce(topic, VALID + [value for value, _ in INVALID] + [{"id": 6, "name": "after", "amount": 2.0, "ok": True,
                                                             "note": None}])

    result, summary, notes = copy(datalab, f"kafka:///{topic}?dead_letter={dead}&metadata=true",
                                  f"{DB}{schema}.m", "--create")
    # The valid rows are committed; the rejected messages make the exit code 4.
    assert result.returncode == 4, result.stderr
    assert summary["rows"] == "4" and summary["rejected"] == "4"
    rows = psql.query(f"SELECT id, translate(name, E'\\n', '~'), amount, ok, note, _partition, _offset "
                      f"FROM {schema}.m ORDER BY id")
    assert rows == [["1", "Zoë 😀", "12.5", "t", "", "0", "0"], ["2", "", "-0.25", "f", "x", "0", "1"],
                    ["3", "line~break", "10000000000", "", "", "0", "2"], ["6", "after", "2", "t", "", "0", "7"]]
    assert psql.scalar(f"SELECT count(*) FROM {schema}.m WHERE note IS NULL AND name = E'line\\nbreak'") == "1"

    for offset, (_, reason) in enumerate(INVALID, start=3):
        assert any(f"partition 0 offset {offset}:" in n and reason in n for n in notes), (offset, notes)
    letters = read_topic(dead)
    assert [m["payload"].encode() for m in letters] == [value for value, _ in INVALID]
    for letter, (_, reason) in zip(letters, INVALID):
        headers = dict(zip(letter["headers"][::2], letter["headers"][1::2]))
        assert reason in headers["datalab.reason"]
        assert headers["datalab.topic"] == topic and headers["datalab.partition"] == "0"


def test_a_copy_ends_at_the_end_it_saw_and_a_group_copies_each_message_once(datalab, psql, schema, topics, admin):
    topic = topics()
    group = unique("copy-kafka-group")
    create_topic(admin, topic, partitions=3)
    for p in range(3):
        produce(topic, [{"id": p * 100 + i, "v": f"p{p}"} for i in range(50)], partition=p)
    try:
        # Without a group: the whole topic, every time, and the copy ends.
        for _ in range(2):
            result, summary, _ = copy(datalab, f"kafka:///{topic}", f"{DB}{schema}.all", "--create")
            assert result.returncode == 0, result.stderr
            assert summary["rows"] == "150"
        assert psql.scalar(f"SELECT count(*) FROM {schema}.all") == "300"

        # Messages keep coming while it runs: the copy still ends, at the end it saw at its start.
        stop = threading.Event()

        def keep_producing():
            producer = kafka.KafkaProducer(bootstrap_servers=BOOTSTRAP)
            i = 0
            while not stop.is_set():
                producer.send(topic, json.dumps({"id": 10_000 + i, "v": "live"}).encode(), partition=i % 3)
                i += 1
                if i % 100 == 0:
                    producer.flush()
            producer.flush()
            producer.close()

        live = threading.Thread(target=keep_producing)
        live.start()
        try:
            result, summary, _ = copy(datalab, f"kafka:///{topic}", f"{DB}{schema}.live", "--create")
        finally:
            stop.set()
            live.join()
        assert result.returncode == 0, result.stderr
        assert int(summary["rows"]) >= 150
        assert psql.scalar(f"SELECT count(*) FROM {schema}.live") == summary["rows"]

        # A group: a run copies what the group has not read, its offsets committed after the table.
        target = f"{DB}{schema}.g"
        total = len(read_topic(topic))
        result, summary, _ = copy(datalab, f"kafka:///{topic}?group={group}", target, "--create")
        assert result.returncode == 0 and summary["rows"] == str(total), result.stderr
        result, summary, _ = copy(datalab, f"kafka:///{topic}?group={group}", target)
        assert result.returncode == 0 and summary["rows"] == "0", result.stderr
        produce(topic, [{"id": 1000, "v": "new"}, {"id": 1001, "v": "new"}], partition=1)
        result, summary, _ = copy(datalab, f"kafka:///{topic}?group={group}", target)
        assert result.returncode == 0 and summary["rows"] == "2", result.stderr
        assert psql.query(f"SELECT count(*), count(DISTINCT id) FROM {schema}.g") == [[str(total + 2)] * 2]
        assert any(g["group_id"] == group for g in admin.list_groups())
    finally:
        if any(g["group_id"] == group for g in admin.list_groups()):
            admin.delete_groups([group])


def test_an_empty_topic_copies_nothing_and_creates_no_table(datalab, psql, schema, topics, admin):
    topic = topics()
    create_topic(admin, topic)
    result, summary, notes = copy(datalab, f"kafka:///{topic}", f"{DB}{schema}.empty", "--create")
    assert result.returncode == 0, result.stderr
    assert summary["rows"] == "0"
    assert any("no columns" in note for note in notes), notes
    assert psql.scalar(f"SELECT to_regclass('{schema}.empty') IS NULL") == "t"


def test_a_declared_schema_types_the_columns_and_rejects_what_does_not_fit_it(datalab, psql, schema, topics, admin):
    topic, dead = topics(), topics("copy-kafka-dlq")
    create_topic(admin, topic)
    create_topic(admin, dead)
    declared = "id:int64,amount:decimal(12,2),day:date,at:timestamptz,label:utf8"
    # On an empty topic the declared columns still make the table.
    result, summary, _ = copy(datalab, f"kafka:///{topic}?schema={declared}", f"{DB}{schema}.typed", "--create")
    assert result.returncode == 0 and summary["rows"] == "0", result.stderr
    assert psql.query(f"SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
                      f"WHERE table_schema = '{schema}' AND table_name = 'typed' ORDER BY ordinal_position") == [
        ["id", "bigint", "64", "0"], ["amount", "numeric", "12", "2"], ["day", "date", "", ""],
        ["at", "timestamp with time zone", "", ""], ["label", "text", "", ""]]

    # The first message alone would make amount a double and day a text; the declared types
    # hold exact decimals (as JSON strings or numbers) and dates.
    produce(topic, [{"id": 1, "amount": "12.34", "day": "2024-02-29", "at": "2024-01-01T10:00:00Z", "label": "a"},
                    {"id": 2, "amount": 0.1, "day": "2024-03-01", "at": "2024-01-01 11:00:00.5+00:00"},
                    {"id": 3, "amount": "1.00", "day": "2024-13-01", "label": "bad date"},
                    {"id": 4, "amount": "1.00", "colour": "blue"},
                    {"id": "five", "amount": "1.00"},
                    {"id": 6, "amount": "99999999999.99"}])
    result, summary, notes = copy(datalab, f"kafka:///{topic}?schema={declared}&dead_letter={dead}",
                                  f"{DB}{schema}.typed")
    assert result.returncode == 4, result.stderr
    assert summary["rows"] == "2" and summary["rejected"] == "4", (summary, notes)
    assert psql.query(f"SELECT id, amount, day, at AT TIME ZONE 'UTC', label FROM {schema}.typed ORDER BY id") == [
        ["1", "12.34", "2024-02-29", "2024-01-01 10:00:00", "a"],
        ["2", "0.10", "2024-03-01", "2024-01-01 11:00:00.5", ""]]
    assert any("offset 2:" in n and "field 'day'" in n for n in notes), notes
    assert any("offset 3:" in n and "field 'colour' is not among the columns of ?schema=" in n for n in notes), notes
    assert len(read_topic(dead)) == 4

    for bad, why in [("id:int64,amount", "is not name:type"), ("id:int64,id:utf8", "names column 'id' twice"),
                     ("id:integer128", "column 'id': type 'integer128' is unknown")]:
        result, _, _ = copy(datalab, f"kafka:///{topic}?schema={bad}", f"{DB}{schema}.typed")
        assert result.returncode == 2 and why in result.stderr, (bad, result.stderr)


def test_a_transactional_copy_shows_read_committed_consumers_all_of_its_messages_or_none(datalab, psql, schema,
                                                                                           topics, admin):
    topic = topics()
    create_topic(admin, topic)
    psql.query(f"CREATE TABLE {schema}.t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000000) g")
    target = f"kafka:///{topic}?transactional=true"

    def committed():
        return len(kcat("-C", "-e", "-q", "-t", topic, "-o", "beginning", "-X", "isolation.level=read_committed",
                        "-f", "%o\n").splitlines())

    result, summary, _ = copy(datalab, f"postgres:///?query=SELECT%20*%20FROM%20{schema}.t%20WHERE%20id%20<=%201000",
                              target)
    assert result.returncode == 0 and summary["rows"] == "1000", result.stderr
    assert committed() == 1000

    # The source breaks at row 150,000, after the first batches were produced: none of them
    # reach read_committed consumers (the end of the test shows the same copy without the
    # option leaving its messages visible).
    failing = f"postgres:///?query=SELECT%20id,%20v,%201%2F(id%20-%20150000)%20AS%20x%20FROM%20{schema}.t"
    result, _, _ = copy(datalab, failing, target)
    assert result.returncode != 0 and "division by zero" in result.stderr, result.stderr
    assert committed() == 1000

    # Killed part way: the next transactional copy into the topic aborts what it left open.
    datalab.run_killed("copy", f"{DB}{schema}.t", target)
    result, summary, _ = copy(datalab, f"postgres:///?query=SELECT%20*%20FROM%20{schema}.t%20WHERE%20id%20<=%20500",
                              target)
    assert result.returncode == 0 and summary["rows"] == "500", result.stderr
    assert committed() == 1500

    # Without the option the same failing copy leaves what it delivered visible to every consumer.
    result, _, _ = copy(datalab, failing, f"kafka:///{topic}")
    assert result.returncode != 0
    assert committed() > 1500


def test_an_incremental_copy_into_kafka_commits_its_watermark_with_the_messages(datalab, psql, schema, topics, admin):
    watermarks = "datalab-copy-watermarks"
    had_watermarks = watermarks in admin.list_topics()
    topic = topics()
    create_topic(admin, topic)
    psql.cursor_table(f"{schema}.src", 1500000)
    args = [f"{DB}{schema}.src", f"kafka:///{topic}?transactional=true", "--incremental",
            "--cursor", "updated_at", "--key", "id"]

    def committed_ids():
        lines = kcat("-C", "-e", "-q", "-t", topic, "-o", "beginning", "-X", "isolation.level=read_committed").splitlines()
        return [json.loads(line)["id"] for line in lines]

    try:
        refused, _, _ = copy(datalab, args[0], f"kafka:///{topic}", *args[2:])
        assert refused.returncode == 2 and "?transactional=true" in refused.stderr, refused.stderr

        datalab.run_killed("copy", *args, after=1.5)  # neither its messages nor a watermark commit
        assert committed_ids() == []
        result, summary, _ = copy(datalab, *args)
        assert result.returncode == 0, result.stderr
        assert summary["rows"] == "1500000" and summary["rows with a NULL cursor (not copied)"] == "1"

        last = psql.scalar(f"SELECT max(updated_at) FROM {schema}.src")
        psql.query(f"""INSERT INTO {schema}.src VALUES (1500001, '{last}', 'tie'),
            (1500002, '{last}'::timestamptz + interval '1 hour', 'later'), (1500003, '2023-01-01', 'late arrival')""")
        assert copy(datalab, *args)[1]["rows"] == "2"
        assert copy(datalab, *args)[1]["rows"] == "0"
        ids = committed_ids()
        assert len(ids) == 1500002 and len(set(ids)) == 1500002 and min(ids) == 1 and max(ids) == 1500002

        # The watermark is read back with the columns it was made with.
        other, _, _ = copy(datalab, *args[:-2])
        assert other.returncode == 2 and "--key id" in other.stderr, other.stderr
    finally:
        if not had_watermarks and watermarks in admin.list_topics():
            admin.delete_topics([watermarks])
