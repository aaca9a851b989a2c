"""`datalab doctor` against the real services: what it says when everything answers, when a
port is held by another process, when a service is stopped and when a setting is wrong."""
import json
import os
import socket
import subprocess
import threading

from conftest import ROOT, s3_env


def doctor(datalab, *settings):
    args = [a for s in settings for a in ("-s", s)]
    result = subprocess.run([datalab.binary, "--format", "json", *args, "doctor"], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, **s3_env()), cwd=ROOT)
    checks = {row["check"]: row for row in json.loads(result.stdout)[0]["rows"]}
    return result, checks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_service_the_tests_started_answers_as_itself(datalab):
    _, checks = doctor(datalab)
    for name in ("PostgreSQL", "ClickHouse", "Kafka", "S3", "memory", "disk"):
        assert checks[name]["status"] in ("ok", "warn"), checks[name]
    assert checks["PostgreSQL"]["detail"].startswith("version 15.")
    assert checks["ClickHouse"]["detail"].startswith("version ")


def test_a_port_held_by_another_process_is_named_with_that_process(datalab):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def answer_garbage():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.0 418 not a database\r\n\r\n")
            conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    try:
        result, checks = doctor(datalab, f"DB_PORT={port}")
        assert result.returncode == 3, result.stderr
        pg = checks["PostgreSQL"]
        assert pg["status"] == "FAIL"
        assert f"127.0.0.1:{port} answers, but not as PostgreSQL" in pg["detail"]
        assert "held by python" in pg["detail"] and f"pid {os.getpid()}" in pg["detail"], pg
        assert "DB_PORT" in pg["what to do"]
        assert checks["ClickHouse"]["status"] != "FAIL"
    finally:
        listener.close()


def test_a_stopped_service_and_a_wrong_password_are_failures_with_what_to_do(datalab):
    port = free_port()
    wrong = "not-the-password-7f3a"
    result, checks = doctor(datalab, f"CLICKHOUSE_DB_PORT={port}", f"POSTGRES_PASSWORD={wrong}")
    assert result.returncode == 3
    assert checks["ClickHouse"]["status"] == "FAIL"
    assert checks["ClickHouse"]["detail"] == f"nothing answers on localhost:{port}"
    assert checks["ClickHouse"]["what to do"] == "start it: services/ctl start clickhouse"
    assert checks["PostgreSQL"]["status"] == "FAIL"
    assert "password authentication failed" in checks["PostgreSQL"]["detail"]
    assert wrong not in result.stdout + result.stderr
    failed = sum(1 for c in checks.values() if c["status"] == "FAIL")  # Spark too, when not started
    assert failed >= 2 and f"doctor: {failed} check(s) failed" in result.stderr


def test_settings_that_miss_the_labs_s3_server_are_a_warning_saying_how_to_use_it(datalab):
    result = subprocess.run([datalab.binary, "--format", "json", "-s", "S3_ENDPOINT=", "doctor"], capture_output=True,
                            text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "S3_ENDPOINT"},
                            cwd=ROOT)
    s3 = {row["check"]: row for row in json.loads(result.stdout)[0]["rows"]}["S3"]
    assert s3["status"] == "warn", s3
    assert f"the lab's S3 server (services/seaweedfs.sh) is at {s3_env()['S3_ENDPOINT']}" in s3["detail"]
    assert ".state/seaweedfs/s3.env" in s3["what to do"]


def test_services_ctl_for_a_module_touches_only_the_services_it_uses():
    ctl = os.path.join(os.path.dirname(__file__), "..", "..", "services", "ctl")
    status = subprocess.run([ctl, "status", "--for", "kafka_pipeline"], capture_output=True, text=True, timeout=60)
    assert [line.split()[0] for line in status.stdout.splitlines()] == ["postgres", "kafka"]
    spark = subprocess.run([ctl, "status", "--for", "spark_upload"], capture_output=True, text=True, timeout=60)
    assert [line.split()[0] for line in spark.stdout.splitlines()] == ["postgres", "seaweedfs", "spark"]
    unknown = subprocess.run([ctl, "start", "--for", "nope"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "unknown module: nope" in unknown.stderr
