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
