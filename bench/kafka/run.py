"""Kafka pipeline benchmark: one million flights PostgreSQL -> Kafka -> PostgreSQL with
datalab, side by side in one run with the broker's own limit (Kafka's ProducerPerformance and
ConsumerPerformance from the cached Kafka jars, payloads taken from datalab's topic, acks=all,
idempotence, lz4, the producer settings datalab uses) and the original's producer
(kafka-python, idempotent, configured as the original did). Prints a Markdown table for
BENCHMARKS.md and the ratios.

    ~/.cache/datalab/venv/bin/python bench/kafka/run.py [--flights 1000000] [--python-flights 1000000]

Needs PostgreSQL and Kafka running (services/ctl start postgres kafka). Each step runs
under /usr/bin/time -v for its peak memory; every step uses its own fresh topic.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from gnu_time import timed  # noqa: E402
HERE = os.path.dirname(os.path.abspath(__file__))



def summary(stdout):
    return next(s["summary"] for s in json.loads(stdout) if "summary" in s)


def delete_topics(*topics):
    for t in topics:
        subprocess.run([os.path.join(ROOT, "services", "kafka.sh"), "topics", "--delete", "--topic", t],
                       capture_output=True)


KAFKA_SH = os.path.join(ROOT, "services", "kafka.sh")
BOOTSTRAP = os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092")


def broker_producer_limit(topic, n, payloads):
    """Kafka's ProducerPerformance: n messages drawn from the payload file (one per line), with
    datalab's producer settings. Returns (messages/s, peak RSS MiB)."""
    wall, rss, out = timed([KAFKA_SH, "tool", "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                            "--num-records", str(n), "--throughput", "-1", "--payload-file", payloads,
                            "--producer-props", f"bootstrap.servers={BOOTSTRAP}", "acks=all",
                            "enable.idempotence=true", "compression.type=lz4", "linger.ms=20", "batch.size=1000000"],
                           cwd=ROOT)
    match = re.findall(r"(\d+) records sent, ([\d.]+) records/sec", out)[-1]
    assert int(match[0]) == n, out[-500:]
    return float(match[1]), rss


def broker_consumer_limit(topic, n):
    """Kafka's ConsumerPerformance reading n messages of the topic (no processing)."""
    wall, rss, out = timed([KAFKA_SH, "tool", "org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server",
                            BOOTSTRAP, "--topic", topic, "--messages", str(n), "--timeout", "60000"], cwd=ROOT)
    lines = [line for line in out.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = dict(zip(header, (v.strip() for v in lines[-1].split(","))))
    assert int(values["data.consumed.in.nMsg"]) >= n, out[-500:]
    return float(values["fetch.nMsg.sec"]), float(values["nMsg.sec"]), rss


PSQL = ["psql", "-X", "-q", "-h", os.environ.get("DB_HOST", "127.0.0.1"), "-p", os.environ.get("DB_PORT", "10452"),
        "-U", os.environ.get("POSTGRES_USER", "it_one"), "-d", os.environ.get("POSTGRES_DB", "it_one")]
PSQL_ENV = dict(os.environ, PGPASSWORD=os.environ.get("POSTGRES_PASSWORD", "it_one"))


def psql(sql):
    subprocess.run(PSQL + ["-c", sql], check=True, capture_output=True, env=PSQL_ENV)


def copy_limit():
    """The database side's limit: the consumer's rows, exported as a binary COPY file, loaded
    back into the emptied flights_upload by psql's \\copy (seconds)."""
    path = f"/tmp/bench-kafka-upload-{uuid.uuid4().hex[:8]}.bin"
    try:
        psql(f"\\copy kafka_pipeline.flights_upload TO '{path}' WITH (FORMAT binary)")
        psql("TRUNCATE kafka_pipeline.flights_upload")
        wall, _, _ = timed(PSQL + ["-c", f"\\copy kafka_pipeline.flights_upload FROM '{path}' WITH (FORMAT binary)"],
                           env=PSQL_ENV)
        return wall
    finally:
        if os.path.exists(path):
            os.unlink(path)


def payload_file(topic, path, count=10_000):
    """The first `count` messages of datalab's topic, one per line (flight.v1 JSON has no newline)."""
    with open(path, "w") as f:
        subprocess.run(["kcat", "-b", BOOTSTRAP, "-C", "-e", "-q", "-t", topic, "-c", str(count), "-f", "%s\n"],
                       check=True, stdout=f, timeout=120)
    sizes = [len(line) - 1 for line in open(path, "rb")]
    return sum(sizes) / len(sizes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flights", type=int, default=1_000_000)
    p.add_argument("--python-flights", type=int, default=None, help="flights for kafka-python (default: all)")
    p.add_argument("--datalab", default=os.path.join(ROOT, "build", "release", "datalab"))
    a = p.parse_args()
    dl = [a.datalab, "--format", "json"]
    n = a.flights
    rows = []

    # Source table: n generated flights (not timed: the same input for everyone).
    subprocess.run(dl + ["run", "kafka_pipeline", "--reload", "--flights", str(n), "--no-bad-messages"],
                   check=True, capture_output=True, cwd=ROOT)

    run_id = uuid.uuid4().hex[:8]
    producer_topic, python_topic = f"bench-{run_id}-datalab", f"bench-{run_id}-python"
    limit_topic = f"bench-{run_id}-limit"
    limits = {}
    try:
        # 1. datalab producer alone: PostgreSQL cursor -> JSON -> Kafka, every delivery acknowledged.
        wall, rss, out = timed(dl + ["kafka", "produce", "--topic", producer_topic], cwd=ROOT)
        s = summary(out)
        assert int(s["sent"]) == n, s
        rows.append(("datalab producer (librdkafka, idempotent, lz4)", n, float(s["seconds"]), rss))

        # 2. datalab consumer alone on those messages: validate -> flights_upload, offsets after commit.
        psql("TRUNCATE kafka_pipeline.flights_upload")
        wall, rss, out = timed(dl + ["kafka", "consume", "--topic", producer_topic, "--group", f"bench-{run_id}",
                                     "--until-drained"], cwd=ROOT)
        s = summary(out)
        assert int(s["loaded"]) == n, s
        rows.append(("datalab consumer (validate, COPY into flights_upload)", n, float(s["seconds"]), rss))
        limits["copy"] = copy_limit()

        # 2b. the broker's limits at the same message size: Kafka's own perf tools, payloads
        # from datalab's topic, the same producer settings; the consumer tool reads and drops.
        payloads = f"/tmp/bench-kafka-payloads-{run_id}.txt"
        limits["message_bytes"] = payload_file(producer_topic, payloads)
        subprocess.run(dl + ["kafka", "topics", "--topic", limit_topic], check=True, capture_output=True, cwd=ROOT)
        limits["producer"], limits["producer_rss"] = broker_producer_limit(limit_topic, n, payloads)
        os.unlink(payloads)
        limits["consumer_fetch"], limits["consumer"], limits["consumer_rss"] = broker_consumer_limit(limit_topic, n)

        # 3. datalab end to end: both ends at once, until the topic is drained.
        wall, rss, out = timed(dl + ["run", "kafka_pipeline", "--no-bad-messages", "--group", f"bench-e2e-{run_id}"], cwd=ROOT)
        s = summary(out)
        assert int(s["loaded"]) == n and s["nothing_lost"] == "yes", s
        rows.append(("datalab end to end (run kafka_pipeline)", n, float(s["seconds"]), rss))

        # 4. the original's producer: kafka-python, idempotent, retries as configured.
        pn = a.python_flights or n
        subprocess.run(dl + ["kafka", "topics", "--topic", python_topic], check=True, capture_output=True, cwd=ROOT)
        wall, rss, out = timed([sys.executable, os.path.join(HERE, "kafka_python_producer.py"), python_topic, str(pn)], cwd=ROOT)
        sent = int(re.search(r"sent=(\d+)", out).group(1))
        seconds = float(re.search(r"send_seconds=([\d.]+)", out).group(1))
        rows.append(("original: kafka-python producer (idempotent, fetchall + futures)", sent, seconds, rss))
    finally:
        delete_topics(producer_topic, producer_topic + ".dlq", python_topic, python_topic + ".dlq", limit_topic,
                      limit_topic + ".dlq")

    print("| step | messages | seconds | messages/s | peak memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, count, seconds, rss in rows:
        print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | {rss:.0f} MiB |")
    rate = {name: count / seconds for name, count, seconds, _ in rows}
    producer, consumer, e2e, python = (r[0] for r in rows)
    print(f"| broker limit: Kafka ProducerPerformance (acks=all, idempotent, lz4) | {n:,} | {n / limits['producer']:.2f} "
          f"| {limits['producer']:,.0f} | {limits['producer_rss']:.0f} MiB |")
    print(f"| broker limit: Kafka ConsumerPerformance (read only) | {n:,} | {n / limits['consumer']:.2f} "
          f"| {limits['consumer']:,.0f} | {limits['consumer_rss']:.0f} MiB |")
    print(f"| database limit: psql \\copy of the consumer's rows (binary) into flights_upload | {n:,} | "
          f"{limits['copy']:.2f} | {n / limits['copy']:,.0f} | — |")
    print()
    print(f"average message: {limits['message_bytes']:.0f} bytes")
    print(f"datalab producer / broker's producer limit: {rate[producer] / limits['producer']:.2f} (goal >= 0.8)")
    print(f"datalab consumer / broker's consumer limit: {rate[consumer] / limits['consumer']:.2f} "
          f"(fetch-only rate of the tool: {limits['consumer_fetch']:,.0f}/s)")
    print(f"datalab producer / kafka-python producer: {rate[producer] / rate[python]:.1f}x (goal >= 10x)")
    print(f"datalab end to end: {rate[e2e]:,.0f} messages/s (goal >= 200,000)")

    # Leave the module in its default state for whoever runs next.
    subprocess.run([a.datalab, "run", "kafka_pipeline", "--reload"], check=True, capture_output=True, cwd=ROOT)


if __name__ == "__main__":
    main()
