"""The original project's producer, as it configured it: kafka-python with
enable_idempotence=True, retry_backoff_ms=500, retries=120, rows read from PostgreSQL with
psycopg2 and sent as json.dumps({"schema": "flight.v1", "data": row}, default=str), keyed
by flight id, then every future waited for. Prints sent=N send_seconds=S.

    python kafka_python_producer.py TOPIC [LIMIT]
"""
import json
import os
import sys
import time

import psycopg2
from kafka import KafkaProducer


def main():
    topic = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    db = psycopg2.connect(host=os.environ.get("DB_HOST", "127.0.0.1"), port=os.environ.get("DB_PORT", "10452"),
                          dbname=os.environ.get("POSTGRES_DB", "it_one"), user=os.environ.get("POSTGRES_USER", "it_one"),
                          password=os.environ.get("POSTGRES_PASSWORD", "it_one"))
    producer = KafkaProducer(bootstrap_servers=os.environ.get("BOOTSTRAP_SERVER", "127.0.0.1:9092"),
                             enable_idempotence=True, retry_backoff_ms=500, retries=120)
    start = time.perf_counter()
    futures = []
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM kafka_pipeline.flights" + (f" LIMIT {int(limit)}" if limit else ""))
        columns = [c[0] for c in cursor.description]
        for row in cursor.fetchall():
            message = {"schema": "flight.v1", "data": dict(zip(columns, row))}
            futures.append(producer.send(topic, value=json.dumps(message, default=str).encode("utf-8"),
                                         key=str(row[0]).encode()))
    for future in futures:
        future.get(timeout=30)
    producer.flush()
    seconds = time.perf_counter() - start
    print(f"sent={len(futures)} send_seconds={seconds:.3f}")


if __name__ == "__main__":
    main()
