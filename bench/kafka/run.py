"""Kafka pipeline benchmark: one million flights PostgreSQL -> Kafka -> PostgreSQL with
datalab, side by side in one run with the original's producer (kafka-python, idempotent,
configured as the original did). Prints a Markdown table for BENCHMARKS.md and the ratios.

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
    try:
        # 1. datalab producer alone: PostgreSQL cursor -> JSON -> Kafka, every delivery acknowledged.
        wall, rss, out = timed(dl + ["kafka", "produce", "--topic", producer_topic], cwd=ROOT)
        s = summary(out)
        assert int(s["sent"]) == n, s
        rows.append(("datalab producer (librdkafka, idempotent, lz4)", n, float(s["seconds"]), rss))

        # 2. datalab consumer alone on those messages: validate -> flights_upload, offsets after commit.
        subprocess.run(["psql", "-X", "-q", "-h", os.environ.get("DB_HOST", "127.0.0.1"), "-p",
                        os.environ.get("DB_PORT", "10452"), "-U", os.environ.get("POSTGRES_USER", "it_one"), "-d",
                        os.environ.get("POSTGRES_DB", "it_one"), "-c", "TRUNCATE kafka_pipeline.flights_upload"],
                       check=True, env=dict(os.environ, PGPASSWORD=os.environ.get("POSTGRES_PASSWORD", "it_one")))
        wall, rss, out = timed(dl + ["kafka", "consume", "--topic", producer_topic, "--group", f"bench-{run_id}",
                                     "--until-drained"], cwd=ROOT)
        s = summary(out)
        assert int(s["loaded"]) == n, s
        rows.append(("datalab consumer (validate, COPY into flights_upload)", n, float(s["seconds"]), rss))

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
        delete_topics(producer_topic, producer_topic + ".dlq", python_topic, python_topic + ".dlq")

    print("| step | messages | seconds | messages/s | peak memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, count, seconds, rss in rows:
        print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | {rss:.0f} MiB |")
    rate = {name: count / seconds for name, count, seconds, _ in rows}
    producer, consumer, e2e, python = (r[0] for r in rows)
    print()
    print(f"datalab producer / kafka-python producer: {rate[producer] / rate[python]:.1f}x (goal >= 10x)")
    print(f"datalab end to end: {rate[e2e]:,.0f} messages/s (goal >= 100,000)")

    # Leave the module in its default state for whoever runs next.
    subprocess.run([a.datalab, "run", "kafka_pipeline", "--reload"], check=True, capture_output=True, cwd=ROOT)


if __name__ == "__main__":
    main()
