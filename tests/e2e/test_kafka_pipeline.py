"""kafka_pipeline end to end on the real broker: the datalab binary as a user runs it,
the database checked with psql and the topics read with kcat (independent clients)."""
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT

BOOTSTRAP = os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092")
REFERENCE_CSV = os.path.join(ROOT, "..", "shared", "reference-data", "flights.csv")
BAD_KINDS = {  # injected key -> a fragment of the reason the consumer must give
    "bad-900000001": "invalid JSON",
    "bad-900000002": "unsupported schema version",
    "bad-900000003": "missing field data.origin",
    "bad-900000004": "data.duration_minutes must be an integer",
    "bad-900000005": "data.business_seats must not be negative",
    "bad-900000006": "data.booked_economy (151) exceeds data.economy_seats (150)",
    "bad-900000007": "data.arrival_time must be after data.departure_time",
    "bad-900000008": "data.destination must be a three-letter IATA code",
}
SAME_ROWS = """SELECT count(*) FROM (
  (SELECT flight_id, airline, flight_number, origin, destination, departure_time, arrival_time,
          duration_minutes, aircraft_type, status FROM kafka_pipeline.flights
   EXCEPT SELECT * FROM kafka_pipeline.flights_upload)
  UNION ALL
  (SELECT * FROM kafka_pipeline.flights_upload
   EXCEPT SELECT flight_id, airline, flight_number, origin, destination, departure_time, arrival_time,
          duration_minutes, aircraft_type, status FROM kafka_pipeline.flights)) d"""


def kcat(*args):
    return subprocess.run(["kcat", "-b", BOOTSTRAP, *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def end_offsets(topic, partitions):
    out = {}
    for p in range(partitions):
        line = kcat("-Q", "-t", f"{topic}:{p}:-1").strip()
        out[p] = int(line.rsplit(" ", 1)[1])
    return out


def summary(report):
    return next(section["summary"] for section in report if "summary" in section)


def upload_state(psql):
    return psql.query("SELECT count(*), count(DISTINCT flight_id), md5(string_agg(flight_id::text || airline || "
                      "departure_time::text, ',' ORDER BY flight_id)) FROM kafka_pipeline.flights_upload")[0]


@pytest.fixture(scope="module", autouse=True)
def broker():
    try:
        kcat("-L", "-m", "5")
    except Exception as e:  # the test script starts Kafka: a missing broker is a failure, not a skip
        pytest.fail(f"Kafka is not answering at {BOOTSTRAP} (services/ctl start kafka): {e}")
    yield
    # Leave the module in its default state for whoever runs next.
    subprocess.run([os.environ.get("DATALAB_BIN", os.path.join(ROOT, "build", "release", "datalab")),
                    "run", "kafka_pipeline", "--reload"], capture_output=True, cwd=ROOT, timeout=600)


def test_bad_messages_reach_the_dead_letter_topic_with_their_reason(datalab, psql):
    datalab.run("kafka", "topics")  # both topics exist before we note where the DLQ ends
    dlq_start = end_offsets("it-one.dlq", 1)[0]
    s = summary(datalab.json("run", "kafka_pipeline", "--reload", "--flights", "500"))
    assert int(s["flights"]) == 500
    assert int(s["sent"]) == 500 + len(BAD_KINDS)
    assert int(s["loaded"]) == 500
    assert int(s["dead_lettered"]) == len(BAD_KINDS)
    assert int(s["sent"]) == int(s["loaded"]) + int(s["already_loaded"]) + int(s["dead_lettered"])
    assert s["nothing_lost"] == "yes"
    assert psql.scalar("SELECT count(*) FROM kafka_pipeline.flights_upload") == "500"
    assert psql.scalar(SAME_ROWS) == "0"

    letters = [json.loads(line) for line in
               kcat("-C", "-J", "-e", "-q", "-t", "it-one.dlq", "-o", str(dlq_start)).splitlines()]
    assert len(letters) == len(BAD_KINDS)
    for letter in letters:
        body = json.loads(letter["payload"])
        assert body["reason"].find(BAD_KINDS[letter["key"]]) >= 0, body
        original = body["original"]
        assert original["topic"] == "it-one" and original["key"] == letter["key"]
        headers = dict(zip(letter["headers"][::2], letter["headers"][1::2]))
        assert headers["dlq.reason"] == body["reason"]
        assert int(headers["dlq.original.offset"]) == original["offset"]
        # The original message, read back from it-one at its partition and offset, is the one kept.
        raw = kcat("-C", "-e", "-q", "-t", "it-one", "-p", str(original["partition"]), "-o", str(original["offset"]),
                   "-c", "1", "-f", "%k\n%s")
        key, value = raw.split("\n", 1)
        assert key == letter["key"] and value == original["value"]


def test_rerun_ends_in_the_same_state(datalab, psql):
    first = summary(datalab.json("run", "kafka_pipeline"))
    state = upload_state(psql)
    second = summary(datalab.json("run", "kafka_pipeline"))
    assert upload_state(psql) == state
    for key in ("flights", "sent", "loaded", "already_loaded", "dead_lettered", "flights_upload_rows"):
        assert first[key] == second[key], key


@pytest.mark.skipif(not os.path.exists(REFERENCE_CSV), reason="no ../shared/reference-data next to the checkout")
def test_the_originals_flights_csv_loads_and_flows(datalab, psql):
    s = summary(datalab.json("run", "kafka_pipeline", "--csv", REFERENCE_CSV, "--no-bad-messages"))
    assert (s["flights"], s["sent"], s["loaded"], s["dead_lettered"]) == ("100", "100", "100", "0")
    assert psql.scalar("SELECT flight_number || ' ' || origin || '-' || destination || ' ' || "
                       "to_char(departure_time AT TIME ZONE 'UTC', 'HH24:MI') FROM kafka_pipeline.flights_upload "
                       "WHERE flight_id = 0") == "DL101 ATL-JFK 08:00"
    assert psql.scalar(SAME_ROWS) == "0"


def start(datalab, *args):
    return subprocess.Popen([datalab.binary, "--format", "json", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_for_rows(psql, at_least, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(psql.scalar("SELECT count(*) FROM kafka_pipeline.flights_upload")) >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"flights_upload never reached {at_least} rows")


def delete_topics(*topics):
    for topic in topics:
        subprocess.run([os.path.join(ROOT, "services", "kafka.sh"), "topics", "--delete", "--topic", topic],
                       capture_output=True, timeout=120)


def test_consumer_stopped_and_killed_mid_stream_loses_and_duplicates_nothing(datalab, psql):
    topic, group, flights = f"it-one-test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}", 20000
    try:
        sent = summary(datalab.json("kafka", "produce", "--topic", topic, "--reload", "--flights", str(flights)))
        assert int(sent["sent"]) == flights
        psql.query("TRUNCATE kafka_pipeline.flights_upload")

        # SIGTERM: the consumer finishes its batch, commits and exits 0 with a summary.
        consumer = start(datalab, "kafka", "consume", "--topic", topic, "--group", group, "--rate", "4000")
        wait_for_rows(psql, 2000)
        consumer.send_signal(signal.SIGTERM)
        out, err = consumer.communicate(timeout=60)
        assert consumer.returncode == 0, err
        stopped = summary(json.loads(out))
        assert 0 < int(stopped["loaded"]) < flights

        # SIGKILL: no chance to commit anything in flight.
        consumer = start(datalab, "kafka", "consume", "--topic", topic, "--group", group, "--rate", "4000")
        wait_for_rows(psql, int(stopped["loaded"]) + 4000)
        consumer.send_signal(signal.SIGKILL)
        consumer.communicate(timeout=60)
        assert consumer.returncode == -signal.SIGKILL
        before = int(psql.scalar("SELECT count(*) FROM kafka_pipeline.flights_upload"))
        assert before < flights

        rest = summary(datalab.json("kafka", "consume", "--topic", topic, "--group", group, "--until-drained"))
        assert rest["drained"] == "yes"
        count, distinct, _ = upload_state(psql)
        assert count == distinct == str(flights)
        assert before + int(rest["loaded"]) == flights
        assert int(rest["dead_lettered"]) == 0
        assert psql.scalar(SAME_ROWS) == "0"
    finally:
        delete_topics(topic, topic + ".dlq")


def test_broker_restart_while_producing_loses_nothing(datalab, psql):
    topic, group, flights = f"it-one-test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}", 20000
    kafka = os.path.join(ROOT, "services", "kafka.sh")
    try:
        datalab.run("kafka", "topics", "--topic", topic)
        datalab.run("run", "kafka_pipeline", "--reload", "--flights", str(flights), "--no-bad-messages")
        producer = start(datalab, "kafka", "produce", "--topic", topic, "--rate", "2000")
        wait_start = time.time()
        while end_offsets(topic, 3) == {0: 0, 1: 0, 2: 0} and time.time() - wait_start < 30:
            time.sleep(0.2)
        subprocess.run([kafka, "stop"], check=True, capture_output=True, timeout=120)
        assert producer.poll() is None, "the producer finished before the broker went down"
        time.sleep(2)
        subprocess.run([kafka, "start"], check=True, capture_output=True, timeout=180)
        out, err = producer.communicate(timeout=300)
        assert producer.returncode == 0, err
        assert int(summary(json.loads(out))["sent"]) == flights
        # Exactly the flights in the topic: none lost, no retried duplicate (idempotence).
        assert sum(end_offsets(topic, 3).values()) == flights

        psql.query("TRUNCATE kafka_pipeline.flights_upload")
        rest = summary(datalab.json("kafka", "consume", "--topic", topic, "--group", group, "--until-drained"))
        assert int(rest["received"]) == flights and int(rest["loaded"]) == flights
        assert psql.scalar(SAME_ROWS) == "0"
    finally:
        subprocess.run([kafka, "start"], capture_output=True, timeout=180)
        delete_topics(topic, topic + ".dlq")


def flight_v1(flight_id, **changes):
    data = {"flight_id": flight_id, "airline": "Delta", "flight_number": "DL101", "origin": "ATL",
            "destination": "JFK", "departure_time": "2024-01-15T08:00:00+00:00",
            "arrival_time": "2024-01-15T10:30:00+00:00", "duration_minutes": 150, "aircraft_type": "B737-800",
            "status": "On Time", "economy_seats": 150, "business_seats": 20, "first_class_seats": 10,
            "booked_economy": 120, "booked_business": 15, "booked_first_class": 8}
    data.update(changes)
    return json.dumps({"schema": "flight.v1", "data": data})


def produce_to(topic, partition, key, value, tmp_path):
    """One message through kcat (an independent client), from a file so it is sent whole."""
    path = tmp_path / f"message-{uuid.uuid4().hex}"
    path.write_bytes(value.encode() if isinstance(value, str) else value)
    subprocess.run(["kcat", "-b", BOOTSTRAP, "-P", "-t", topic, "-p", str(partition), "-k", key,
                    "-X", "message.max.bytes=2000000", str(path)], check=True, capture_output=True, timeout=120)


def dead_letters(topic):
    return [json.loads(line) for line in kcat("-C", "-J", "-e", "-q", "-t", topic + ".dlq", "-o", "beginning")
            .splitlines()]


def consume(datalab, topic, group):
    result = datalab.run("--format", "json", "kafka", "consume", "--topic", topic, "--group", group,
                         "--until-drained", check=False)
    return result.returncode, result


def forget_dead_letters(psql, topic):
    if psql.scalar("SELECT to_regclass('kafka_pipeline.dead_letters') IS NOT NULL") == "t":
        psql.query(f"DELETE FROM kafka_pipeline.dead_letters WHERE topic = '{topic}'")


FIRST_TEST_ID = 990_000_000  # flight ids of these tests, far above the generated ones


def test_a_message_too_large_to_dead_letter_whole_is_dead_lettered_once_and_does_not_block(datalab, psql, tmp_path):
    import hashlib
    topic, group = f"it-one-big-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    ids = [FIRST_TEST_ID + i for i in range(9)]
    big = flight_v1(FIRST_TEST_ID + 100, airline="A" * 1_000_000)  # accepted by the broker (< 1 MiB)
    try:
        psql.query(f"DELETE FROM kafka_pipeline.flights_upload WHERE flight_id >= {FIRST_TEST_ID}")
        datalab.run("kafka", "topics", "--topic", topic)
        for i, flight_id in enumerate(ids[:3]):
            produce_to(topic, i, str(flight_id), flight_v1(flight_id), tmp_path)
        # A small bad message in the batch before the big one: once dead-lettered, never again.
        produce_to(topic, 1, "small-bad", flight_v1(FIRST_TEST_ID + 101, origin="atl"), tmp_path)
        produce_to(topic, 1, "big", big, tmp_path)
        for i, flight_id in enumerate(ids[3:]):
            produce_to(topic, i % 3, str(flight_id), flight_v1(flight_id), tmp_path)

        code, result = consume(datalab, topic, group)
        assert code == 0, result.stderr
        s = summary(json.loads(result.stdout))
        assert (s["received"], s["loaded"], s["dead_lettered"], s["drained"]) == ("11", "9", "2", "yes")
        assert psql.scalar(f"SELECT count(*) FROM kafka_pipeline.flights_upload WHERE flight_id = ANY("
                           f"ARRAY{ids}::bigint[])") == "9"

        def check_letters():
            letters = dead_letters(topic)
            assert sorted(letter["key"] for letter in letters) == ["big", "small-bad"]
            letter = next(letter for letter in letters if letter["key"] == "big")
            assert len(letter["payload"]) < 1_000_000
            body = json.loads(letter["payload"])
            assert body["reason"] == "data.airline is longer than 100 characters"
            original = body["original"]
            assert original["topic"] == topic and original["partition"] == 1
            assert original["value_truncated"] is True
            assert original["value_bytes"] == len(big)
            assert original["value_sha256"] == hashlib.sha256(big.encode()).hexdigest()
            assert big.startswith(original["value"]) and 0 < len(original["value"]) < len(big)
            headers = dict(zip(letter["headers"][::2], letter["headers"][1::2]))
            assert headers["dlq.reason"] == body["reason"]
            assert int(headers["dlq.original.offset"]) == original["offset"]
            small = json.loads(next(letter for letter in letters if letter["key"] == "small-bad")["payload"])
            assert small["original"]["value_truncated"] is False
            assert small["original"]["value"] == flight_v1(FIRST_TEST_ID + 101, origin="atl")

        check_letters()
        # Rerun in the same group: nothing new. In a new group (the offsets lost, as after a crash
        # before the offset commit): every message comes again, but no dead letter is sent twice.
        code, result = consume(datalab, topic, group)
        assert code == 0, result.stderr
        assert summary(json.loads(result.stdout))["received"] == "0"
        code, result = consume(datalab, topic, f"{group}-again")
        assert code == 0, result.stderr
        s = summary(json.loads(result.stdout))
        assert (s["received"], s["loaded"], s["already_loaded"], s["dead_lettered"], s["already_dead_lettered"]) == \
            ("11", "0", "9", "0", "2")
        check_letters()
    finally:
        delete_topics(topic, topic + ".dlq")
        psql.query(f"DELETE FROM kafka_pipeline.flights_upload WHERE flight_id >= {FIRST_TEST_ID}")
        forget_dead_letters(psql, topic)


def test_a_crash_between_dead_letter_delivery_and_its_record_sends_it_once(datalab, psql, tmp_path):
    topic, group = f"it-one-crash-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    try:
        datalab.run("kafka", "topics", "--topic", topic)
        produce_to(topic, 0, "bad-a", flight_v1(FIRST_TEST_ID + 200, status=""), tmp_path)
        produce_to(topic, 2, "bad-b", "not json", tmp_path)
        code, result = consume(datalab, topic, group)
        assert code == 0, result.stderr
        assert summary(json.loads(result.stdout))["dead_lettered"] == "2"
        # The state a crash leaves after the dead letters were delivered and before anything else
        # was recorded: the intent to send is stored, the delivery is not, no offset is committed.
        assert psql.scalar(f"SELECT count(*) FROM kafka_pipeline.dead_letters WHERE topic = '{topic}' "
                           "AND dlq_offset IS NOT NULL") == "2"
        psql.query(f"UPDATE kafka_pipeline.dead_letters SET dlq_partition = NULL, dlq_offset = NULL "
                   f"WHERE topic = '{topic}'")
        code, result = consume(datalab, topic, f"{group}-restarted")
        assert code == 0, result.stderr
        s = summary(json.loads(result.stdout))
        assert (s["dead_lettered"], s["already_dead_lettered"]) == ("0", "2")
        assert sorted(letter["key"] for letter in dead_letters(topic)) == ["bad-a", "bad-b"]
        assert psql.scalar(f"SELECT count(*) FROM kafka_pipeline.dead_letters WHERE topic = '{topic}' "
                           "AND dlq_offset IS NOT NULL") == "2"
    finally:
        delete_topics(topic, topic + ".dlq")
        forget_dead_letters(psql, topic)


def test_a_message_with_a_duplicate_key_is_dead_lettered(datalab, psql, tmp_path):
    topic, group = f"it-one-dup-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    flight_id = FIRST_TEST_ID + 300
    # The same field twice: a parser keeping the last value would load "Evil Air".
    duplicate = flight_v1(flight_id).replace('"airline": "Delta"', '"airline": "Delta", "airline": "Evil Air"')
    assert duplicate.count('"airline"') == 2
    try:
        psql.query(f"DELETE FROM kafka_pipeline.flights_upload WHERE flight_id = {flight_id}")
        datalab.run("kafka", "topics", "--topic", topic)
        produce_to(topic, 0, "dup", duplicate, tmp_path)
        produce_to(topic, 0, "dup-schema", '{"schema": "flight.v2", ' + duplicate[1:], tmp_path)
        code, result = consume(datalab, topic, group)
        assert code == 0, result.stderr
        s = summary(json.loads(result.stdout))
        assert (s["loaded"], s["dead_lettered"]) == ("0", "2")
        assert psql.scalar(f"SELECT count(*) FROM kafka_pipeline.flights_upload WHERE flight_id = {flight_id}") == "0"
        reasons = {letter["key"]: json.loads(letter["payload"])["reason"] for letter in dead_letters(topic)}
        assert reasons == {"dup": 'duplicate key "airline" in data', "dup-schema": 'duplicate key "schema"'}
    finally:
        delete_topics(topic, topic + ".dlq")
        psql.query(f"DELETE FROM kafka_pipeline.flights_upload WHERE flight_id = {flight_id}")
        forget_dead_letters(psql, topic)


def test_the_same_bad_message_in_a_topic_created_again_is_dead_lettered_again(datalab, psql, tmp_path):
    topic, group = f"it-one-again-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    bad = flight_v1(FIRST_TEST_ID + 400, origin="X")
    try:
        for attempt in range(2):
            datalab.run("kafka", "topics", "--topic", topic)
            produce_to(topic, 0, "bad", bad, tmp_path)  # the same message at the same place each time
            code, result = consume(datalab, topic, f"{group}-{attempt}")
            assert code == 0, result.stderr
            assert summary(json.loads(result.stdout))["dead_lettered"] == "1", attempt
            assert [letter["key"] for letter in dead_letters(topic)] == ["bad"]
            delete_topics(topic, topic + ".dlq")
            deadline = time.time() + 60
            while f'"{topic}"' in kcat("-L") and time.time() < deadline:
                time.sleep(0.5)
    finally:
        delete_topics(topic, topic + ".dlq")
        forget_dead_letters(psql, topic)


def section_rows(report, title_start):
    return next(s["rows"] for s in report if s.get("title", "").startswith(title_start))


def headers_of(letter):
    return dict(zip(letter["headers"][::2], letter["headers"][1::2]))


def forget_replays(psql, dlq_topic):
    if psql.scalar("SELECT to_regclass('kafka_pipeline.dead_letter_replays') IS NOT NULL") == "t":
        psql.query(f"DELETE FROM kafka_pipeline.dead_letter_replays WHERE dlq_topic = '{dlq_topic}'")


def test_dead_letters_are_counted_shown_and_replayed_until_they_stay_dead(datalab, psql):
    topic = f"it-one-test-{uuid.uuid4().hex[:8]}"
    dlq = topic + ".dlq"
    try:
        s = summary(datalab.json("run", "kafka_pipeline", "--topic", topic, "--reload", "--flights", "300"))
        assert int(s["dead_lettered"]) == len(BAD_KINDS) and s["lag_at_end"] == "0"

        # stats agree with the dead-letter topic read by kcat, reason by reason.
        letters = dead_letters(topic)
        by_reason = {}
        for letter in letters:
            reason = headers_of(letter)["dlq.reason"]
            by_reason[reason] = by_reason.get(reason, 0) + 1
        stats = section_rows(datalab.json("kafka", "dlq", "stats", "--topic", topic, "--by", "reason"), "dead letters")
        assert {row["reason"]: row["messages"] for row in stats} == by_reason
        total = section_rows(datalab.json("kafka", "dlq", "stats", "--topic", topic), "dead letters")
        assert total[0]["messages"] == len(BAD_KINDS)

        shown = section_rows(datalab.json("kafka", "dlq", "show", "--topic", topic, "--reason", "exceeds"), "dead")
        assert len(shown) == 1
        assert shown[0]["key"] == "bad-900000006" and shown[0]["attempt"] == 1
        assert shown[0]["original"].startswith(f"{topic} [")
        assert len(section_rows(datalab.json("kafka", "dlq", "show", "--topic", topic, "--limit", "3"), "dead")) == 3

        def replay(*args):
            return summary(datalab.json("kafka", "dlq", "replay", "--topic", topic, "--reason", "exceeds", *args))

        def drain():
            out = summary(datalab.json("kafka", "consume", "--topic", topic, "--until-drained"))
            assert out["lag_at_end"] == "0"
            return out

        assert replay("--dry-run")["would_replay"] == "1"
        end_before = sum(end_offsets(topic, 3).values())
        first = replay()
        assert (first["matched"], first["replayed"], first[f"to {topic}"]) == ("1", "1", "1")
        # The message sent back is the original, with its attempt and where it came from.
        assert sum(end_offsets(topic, 3).values()) == end_before + 1
        again = [json.loads(line) for p in range(3) for line in
                 kcat("-C", "-J", "-e", "-q", "-t", topic, "-p", str(p), "-o", "beginning").splitlines()
                 if "dlq.replay.of" in json.loads(line).get("headers", [])]
        assert len(again) == 1 and again[0]["key"] == "bad-900000006"
        assert headers_of(again[0])["datalab.attempt"] == "2"
        original = json.loads(next(l["payload"] for l in letters if l["key"] == "bad-900000006"))["original"]
        assert again[0]["payload"] == original["value"]
        # Replaying again sends nothing: each dead letter is replayed once.
        second = replay()
        assert (second["replayed"], second["already_replayed"]) == ("0", "1")

        # The replayed message fails again (attempt 2), is replayed once more, fails on attempt 3
        # and then stays dead.
        assert drain()["dead_lettered"] == "1"
        assert replay()["replayed"] == "1"
        assert drain()["dead_lettered"] == "1"
        last = replay()
        assert (last["replayed"], last["kept_dead"], last["already_replayed"]) == ("0", "1", "2")
        attempts = section_rows(datalab.json("kafka", "dlq", "stats", "--topic", topic, "--by", "attempt"), "dead")
        assert {row["attempt"]: row["messages"] for row in attempts} == {1: len(BAD_KINDS), 2: 1, 3: 1}
        assert psql.scalar("SELECT count(*) FROM kafka_pipeline.flights_upload") == "300"
    finally:
        delete_topics(topic, dlq)
        forget_dead_letters(psql, topic)
        forget_replays(psql, dlq)


def test_topics_show_the_groups_lag_and_retention_is_reported_and_set_keeping_other_settings(datalab, psql):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

    topic, group = f"it-one-test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    try:
        admin.create_topics([NewTopic(topic, 3, 1, topic_configs={"retention.ms": "86400000",
                                                                 "max.message.bytes": "2000000"})])
        report = datalab.json("kafka", "topics", "--topic", topic, "--group", group)
        notes = [s["note"] for s in report if "note" in s]
        assert any(f"topic {topic} has retention.ms=86400000, KAFKA_RETENTION_MS is 300000" in n for n in notes), notes
        assert any(f"created topic {topic}.dlq" in n for n in notes), notes

        summary(datalab.json("kafka", "produce", "--topic", topic, "--reload", "--flights", "1000"))
        rows = [r for r in section_rows(datalab.json("kafka", "topics", "--topic", topic, "--group", group), "kafka")
                if r["topic"] == topic]
        assert sum(r["end"] for r in rows) == 1000 and sum(r["lag"] for r in rows) == 1000
        assert all(r["committed"] is None for r in rows)

        psql.query("TRUNCATE kafka_pipeline.flights_upload")
        out = summary(datalab.json("kafka", "consume", "--topic", topic, "--group", group, "--until-drained"))
        assert out["loaded"] == "1000" and out["lag_at_end"] == "0"
        rows = [r for r in section_rows(datalab.json("kafka", "topics", "--topic", topic, "--group", group), "kafka")
                if r["topic"] == topic]
        assert [r["committed"] for r in rows] == [r["end"] for r in rows] and sum(r["lag"] for r in rows) == 0

        changed = datalab.json("kafka", "topics", "--topic", topic, "--apply-retention")
        assert any(f"topic {topic}: retention.ms 86400000 -> 300000" in s.get("note", "") for s in changed)
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
        assert described["retention.ms"]["value"] == "300000"
        assert described["max.message.bytes"]["value"] == "2000000"
        again = datalab.json("kafka", "topics", "--topic", topic)
        assert not any("retention.ms" in s.get("note", "") for s in again)
    finally:
        admin.close()
        delete_topics(topic, topic + ".dlq")


def test_postgres_stopped_mid_stream_pauses_the_consumer_and_dead_letters_nothing(datalab, psql):
    topic, group, flights = f"it-one-test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}", 20000
    postgres = os.path.join(ROOT, "services", "postgres.sh")
    try:
        summary(datalab.json("kafka", "produce", "--topic", topic, "--reload", "--flights", str(flights)))
        psql.query("TRUNCATE kafka_pipeline.flights_upload")
        consumer = start(datalab, "kafka", "consume", "--topic", topic, "--group", group, "--rate", "4000",
                         "--until-drained")
        wait_for_rows(psql, 2000)
        subprocess.run([postgres, "stop"], check=True, capture_output=True, timeout=180)
        time.sleep(3)
        assert consumer.poll() is None, "the consumer gave up while PostgreSQL was down"
        subprocess.run([postgres, "start"], check=True, capture_output=True, timeout=180)
        out, err = consumer.communicate(timeout=300)
        assert consumer.returncode == 0, err
        assert "pausing" in err
        s = summary(json.loads(out))
        assert int(s["service_retries"]) >= 1
        assert s["dead_lettered"] == "0" and s["already_dead_lettered"] == "0"
        assert int(s["loaded"]) + int(s["already_loaded"]) >= flights
        count, distinct, _ = upload_state(psql)
        assert count == distinct == str(flights)
        assert psql.scalar(SAME_ROWS) == "0"
        assert end_offsets(topic + ".dlq", 1)[0] == 0
    finally:
        subprocess.run([postgres, "start"], capture_output=True, timeout=180)
        delete_topics(topic, topic + ".dlq")


def test_a_replay_killed_between_sending_and_recording_does_not_send_again(datalab, psql):
    topic = f"it-one-test-{uuid.uuid4().hex[:8]}"
    dlq = topic + ".dlq"
    try:
        datalab.run("run", "kafka_pipeline", "--topic", topic)

        def replay():
            return summary(datalab.json("kafka", "dlq", "replay", "--topic", topic, "--reason", "IATA"))

        assert replay()["replayed"] == "1"
        end = end_offsets(topic, 3)
        # As a replay killed after the broker acknowledged but before it recorded where.
        psql.query(f"UPDATE kafka_pipeline.dead_letter_replays SET target_partition = NULL, target_offset = NULL "
                   f"WHERE dlq_topic = '{dlq}'")
        again = replay()
        assert (again["replayed"], again["already_replayed"]) == ("0", "1")
        assert end_offsets(topic, 3) == end
        assert psql.scalar(f"SELECT count(*) FROM kafka_pipeline.dead_letter_replays WHERE dlq_topic = '{dlq}' "
                           "AND target_offset IS NOT NULL") == "1"
    finally:
        delete_topics(topic, dlq)
        forget_dead_letters(psql, topic)
        forget_replays(psql, dlq)
