"""airflow_pipeline end to end: `datalab serve` (the delivery service) as a subprocess
against the real S3 server and PostgreSQL, a local HTTP receiver standing in for the
Telegram Bot API, and the real Airflow DAG run with `airflow dags test` from the Airflow
virtual environment that services/airflow.sh installs. psql and pyarrow check the results."""
import atexit
import concurrent.futures
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import ROOT, Psql, s3_env

pafs = pytest.importorskip("pyarrow.fs")

TG_TOKEN = "123456:test-token-never-logged"
TG_CHAT = "4242"
AIRFLOW_SH = os.path.join(ROOT, "services", "airflow.sh")
FILES = [f"delivery_{i}.parquet" for i in range(1, 6)]
ROWS_PER_FILE = 10


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TelegramReceiver:
    """Records sendMessage calls; answers HTTP 500 to the first `fail_first` of them."""

    def __init__(self, fail_first=0):
        self.messages, self.calls, self.fail_first = [], 0, fail_first
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls += 1
                if receiver.calls <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"ok":false,"description":"try later"}')
                    return
                ok = self.path == f"/bot{TG_TOKEN}/sendMessage"
                if ok:
                    receiver.messages.append(json.loads(body))
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true,"result":{}}' if ok else b'{"ok":false}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# The services' logs live for the test session only (shown in failures, then removed).
SERVE_LOG_DIR = tempfile.mkdtemp(prefix="datalab-e2e-serve-")
atexit.register(shutil.rmtree, SERVE_LOG_DIR, True)


def _diagnostics():
    """What a service that hangs at start may be waiting for: PostgreSQL sessions that are not
    idle (locks), and the end of the S3 server's log."""
    lines = ["PostgreSQL sessions not idle:"]
    try:
        lines += ["  " + " | ".join(row) for row in Psql().query(
            "SELECT pid::text, state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 120) "
            "FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid()")]
    except Exception as e:  # noqa: BLE001 - diagnostics must not hide the failure
        lines.append(f"  (cannot ask: {e})")
    weed_log = os.path.join(os.environ.get("DATALAB_STATE", os.path.join(ROOT, ".state")), "seaweedfs", "weed.log")
    try:
        with open(weed_log, errors="replace") as log:
            lines += ["S3 server log (last 30 lines):"] + ["  " + line.rstrip() for line in log.readlines()[-30:]]
    except OSError as e:
        lines.append(f"(no S3 server log: {e})")
    return "\n".join(lines)


class Service:
    """`datalab serve` on a free port with its own bucket."""

    def __init__(self, binary, s3, receiver, bucket, seed=True, extra_env=None, host=None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = bucket
        env = dict(os.environ, **s3, DELIVERY_BUCKET=bucket, TG_API_URL=receiver.url, TG_TOKEN=TG_TOKEN,
                   TG_CHAT_ID=TG_CHAT, TG_BACKOFF_SECONDS="0.05", **(extra_env or {}))
        args = [binary, "serve", "--port", str(self.port)] + ([] if seed else ["--no-seed"])
        if host:
            args += ["--host", host]
        self.log_path = os.path.join(SERVE_LOG_DIR, f"serve-{bucket}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, f"datalab serve exited early:\n{self.output()}"
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.proc.kill()
        raise AssertionError(f"datalab serve did not become healthy:\n{self.output()}\n{_diagnostics()}")

    def request(self, method, path, body=None, headers=None):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def output(self):
        self.log.flush()
        return open(self.log_path).read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode


@pytest.fixture(scope="module")
def s3():
    return s3_env()


@pytest.fixture(scope="module")
def s3fs(s3):
    return pafs.S3FileSystem(endpoint_override=s3["S3_ENDPOINT"], access_key=s3["AWS_ACCESS_KEY_ID"],
                             secret_key=s3["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http",
                             allow_bucket_deletion=True)  # each test removes its own bucket


def _keys(s3fs, bucket, prefix=""):
    infos = s3fs.get_file_info(pafs.FileSelector(f"{bucket}/{prefix}".rstrip("/"), recursive=True,
                                                 allow_not_found=True))
    return sorted(i.path[len(bucket) + 1:] for i in infos if i.type == pafs.FileType.File)


@pytest.fixture
def env(datalab, s3, s3fs):
    """A fresh bucket, empty tables, a receiver; yields a factory that starts the service."""
    psql = Psql()
    bucket = f"delivery-{uuid.uuid4().hex[:10]}"
    receiver = TelegramReceiver()
    services = []
    # The tables are created by the service on start; empty them if they exist already.
    psql.query("SELECT 1")
    try:
        psql.query("TRUNCATE airflow_pipeline.bakery_deliveries, airflow_pipeline.uploads, "
                   "airflow_pipeline.data_quality_checks")
    except subprocess.CalledProcessError:
        pass

    class Env:
        pass

    e = Env()
    e.psql, e.bucket, e.receiver, e.s3fs = psql, bucket, receiver, s3fs

    def start(**kwargs):
        service = Service(datalab.binary, s3, receiver, bucket, **kwargs)
        services.append(service)
        return service

    e.start = start
    e.keys = lambda prefix="": _keys(s3fs, bucket, prefix)
    yield e
    for service in services:
        service.stop()
    receiver.close()
    if s3fs.get_file_info(bucket).type != pafs.FileType.NotFound:
        s3fs.delete_dir(bucket)


# ---- HTTP API ---------------------------------------------------------------------------

def test_start_writes_the_files_and_a_restart_is_harmless(env):
    service = env.start()
    assert env.keys() == FILES
    status, body = service.request("POST", "/upload")
    assert status == 201 and body["status"] == "loaded" and body["file"] == "delivery_1.parquet"
    assert body["rows"] == ROWS_PER_FILE and body["rows_inserted"] == ROWS_PER_FILE
    assert service.stop() == 0, "SIGTERM must stop the service cleanly"
    env.start()  # restart: delivery_1 is processed, so it is not written again
    root = [k for k in env.keys() if "/" not in k]
    assert root == FILES[1:]
    assert len(env.keys("processed")) == 1


def test_upload_all_then_409_and_validate(env):
    service = env.start()
    for name in FILES:
        status, body = service.request("POST", "/upload")
        assert status == 201, body
        assert body["file"] == name
        assert body["processed_key"].startswith("processed/") and body["processed_key"].endswith("_" + name)
    status, body = service.request("POST", "/upload")
    assert status == 409 and body["status"] == "nothing_to_upload"
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries") == str(5 * ROWS_PER_FILE)
    assert env.psql.scalar("SELECT count(DISTINCT source_file) FROM airflow_pipeline.bakery_deliveries") == "5"
    row = env.psql.query("SELECT delivery_id, item_type, quantity, price_per_unit, manufacture_datetime "
                         "FROM airflow_pipeline.bakery_deliveries WHERE source_file = 'delivery_1.parquet' "
                         "ORDER BY source_row LIMIT 1")[0]
    assert row == ["DEL-001", "croissant", "24", "2.50", "2024-01-15 04:30:00"]
    status, body = service.request("GET", "/validate-last-upload")
    assert status == 200 and body["status"] == "valid", body
    assert body["source_file"] == "delivery_5.parquet"
    assert body["expected_rows"] == body["actual_rows"] == ROWS_PER_FILE
    checks = env.psql.query("SELECT source_file, is_valid, expected_rows, actual_rows "
                            "FROM airflow_pipeline.data_quality_checks")
    assert checks == [["delivery_5.parquet", "t", "10", "10"]]
    assert len(env.keys("processed")) == 5 and [k for k in env.keys() if "/" not in k] == []


def test_validate_without_processed_file_and_upload_on_empty_bucket(env):
    service = env.start(seed=False)
    assert service.request("POST", "/upload")[0] == 409
    status, body = service.request("GET", "/validate-last-upload")
    assert status == 409 and body["status"] == "nothing_to_validate"


def test_concurrent_uploads_never_load_the_same_file_twice(env):
    service = env.start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: service.request("POST", "/upload"), range(8)))
    loaded = [body["file"] for status, body in results if status == 201]
    assert sorted(loaded) == FILES, results
    assert sorted(status for status, _ in results) == [201] * 5 + [409] * 3
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries") == str(5 * ROWS_PER_FILE)
    assert env.psql.scalar("SELECT count(*) FROM (SELECT DISTINCT source_file, delivery_id, item_type "
                           "FROM airflow_pipeline.bakery_deliveries) d") == str(5 * ROWS_PER_FILE)


def test_reloading_a_file_never_duplicates_rows(env):
    """A crash after the commit and before the move leaves the file at the root: the retry
    loads nothing new and moves it."""
    service = env.start()
    status, body = service.request("POST", "/upload")
    assert status == 201
    processed = body["processed_key"]
    env.s3fs.copy_file(f"{env.bucket}/{processed}", f"{env.bucket}/delivery_1.parquet")  # as if never moved
    status, body = service.request("POST", "/upload")
    assert status == 201 and body["file"] == "delivery_1.parquet"
    assert body["rows"] == ROWS_PER_FILE and body["rows_inserted"] == 0
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries") == str(ROWS_PER_FILE)
    assert service.request("GET", "/validate-last-upload")[0] == 200


def test_a_new_file_under_a_loaded_name_is_loaded_in_full(env):
    """Files are told apart by content, not by name alone: a different file that reuses the
    name of one already loaded is a new load (the retry above is not)."""
    service = env.start()
    assert service.request("POST", "/upload")[0] == 201  # delivery_1.parquet
    env.s3fs.copy_file(f"{env.bucket}/delivery_2.parquet", f"{env.bucket}/delivery_1.parquet")  # other rows, same name
    status, body = service.request("POST", "/upload")
    assert status == 201 and body["file"] == "delivery_1.parquet"
    assert body["rows"] == ROWS_PER_FILE and body["rows_inserted"] == ROWS_PER_FILE
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries "
                           "WHERE source_file = 'delivery_1.parquet'") == str(2 * ROWS_PER_FILE)
    assert env.psql.scalar("SELECT count(DISTINCT source_fingerprint) FROM airflow_pipeline.bakery_deliveries") == "2"
    status, body = service.request("GET", "/validate-last-upload")
    assert status == 200, body
    assert body["expected_rows"] == body["actual_rows"] == ROWS_PER_FILE


@pytest.mark.parametrize("body, reason", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"dag_execution_time": "t", "result": "success", "details": "x"}', "dag_id"),
    ('{"dag_id": "d", "dag_execution_time": "t", "result": 5, "details": "x"}', "result"),
    ('{"dag_id": "d", "dag_execution_time": "t", "result": "success"}', "details"),
])
def test_notification_rejects_malformed_bodies(env, body, reason):
    service = env.start(seed=False)
    status, answer = service.request("POST", "/notification", body, {"Content-Type": "application/json"})
    assert status == 400 and answer["status"] == "bad_request"
    assert reason in answer["error"]
    assert env.receiver.messages == []


def test_notification_is_sent_with_retries_and_the_token_is_never_logged(env):
    env.receiver.fail_first = 2
    service = env.start(seed=False)
    payload = {"dag_id": "airflow-pipeline", "dag_execution_time": "2025-01-01T00:00:00+00:00",
               "result": "success", "details": "all good"}
    status, body = service.request("POST", "/notification", json.dumps(payload))
    assert status == 200 and body["status"] == "sent" and body["attempts"] == 3
    assert len(env.receiver.messages) == 1
    message = env.receiver.messages[0]
    assert message["chat_id"] == TG_CHAT
    assert "airflow-pipeline" in message["text"] and "success" in message["text"] and "all good" in message["text"]
    service.stop()
    assert TG_TOKEN not in service.output() and "test-token" not in service.output()


def test_bearer_token_protects_the_endpoints(env):
    service = env.start(extra_env={"DATALAB_API_TOKEN": "s3cret-api-token"})
    assert service.request("GET", "/health")[0] == 200
    assert service.request("POST", "/upload")[0] == 401
    assert service.request("POST", "/upload", headers={"Authorization": "Bearer wrong"})[0] == 401
    status, body = service.request("POST", "/upload", headers={"Authorization": "Bearer s3cret-api-token"})
    assert status == 201
    service.stop()
    assert "s3cret-api-token" not in service.output()


# ---- the Airflow DAG -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    if subprocess.run(["bash", AIRFLOW_SH, "status"], capture_output=True).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("Airflow is not installed: services/ctl start airflow")
        pytest.skip("Airflow is not installed: run services/ctl start airflow")
    home = str(tmp_path_factory.mktemp("airflow-home"))
    result = subprocess.run(["bash", AIRFLOW_SH, "start"], env=dict(os.environ, AIRFLOW_HOME=home),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return home


def run_dag(airflow_home, service, logical_date, *extra):
    env = dict(os.environ, AIRFLOW_HOME=airflow_home, AIRFLOW_CONN_BACKEND=service.url,
               DATALAB_DAG_RETRIES="1", DATALAB_DAG_RETRY_DELAY_SECONDS="1")
    return subprocess.run(["bash", AIRFLOW_SH, "airflow", "dags", "test", "airflow-pipeline", logical_date, *extra],
                          env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)


def _wait_for_messages(receiver, count, seconds=10):
    deadline = time.time() + seconds
    while len(receiver.messages) < count and time.time() < deadline:
        time.sleep(0.1)
    return receiver.messages


def test_dag_files_present_loads_moves_checks_and_notifies_success(env, airflow_home):
    service = env.start()
    run = run_dag(airflow_home, service, "2025-01-01")
    log = run.stdout + run.stderr
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries "
                           "WHERE source_file = 'delivery_1.parquet'") == str(ROWS_PER_FILE), log[-5000:]
    processed = env.keys("processed")
    assert len(processed) == 1 and processed[0].endswith("_delivery_1.parquet")
    assert "delivery_1.parquet" not in env.keys()
    assert env.psql.query("SELECT source_file, is_valid FROM airflow_pipeline.data_quality_checks") == [
        ["delivery_1.parquet", "t"]]
    messages = _wait_for_messages(env.receiver, 1)
    assert len(messages) == 1, log[-5000:]
    assert "airflow-pipeline: success" in messages[0]["text"]
    assert "delivery_1.parquet" in messages[0]["text"]


def test_dag_nothing_to_upload_fails_after_retries_and_notifies_failure(env, airflow_home):
    service = env.start(seed=False)
    run = run_dag(airflow_home, service, "2025-01-02")
    log = run.stdout + run.stderr
    uploads = service.output().count("POST /upload -> 409")
    assert uploads == 2, f"one try and one retry expected, got {uploads}:\n{log[-5000:]}"
    assert "GET /validate-last-upload" not in service.output()
    messages = _wait_for_messages(env.receiver, 1)
    assert len(messages) == 1, log[-5000:]
    assert "airflow-pipeline: failure" in messages[0]["text"]
    assert "nothing_to_upload" in messages[0]["text"]


def test_dag_tampered_file_check_422_and_failure_notification_with_details(env, airflow_home):
    service = env.start()
    assert service.request("POST", "/upload")[0] == 201
    env.psql.query("DELETE FROM airflow_pipeline.bakery_deliveries WHERE source_file = 'delivery_1.parquet' "
                   "AND source_row > 6 RETURNING id")
    # The upload task is marked successful without running: the check sees the tampered file.
    run = run_dag(airflow_home, service, "2025-01-03", "--mark-success-pattern", "^upload$")
    log = run.stdout + run.stderr
    assert "GET /validate-last-upload -> 422" in service.output(), log[-5000:]
    checks = env.psql.query("SELECT source_file, is_valid, expected_rows, actual_rows "
                            "FROM airflow_pipeline.data_quality_checks")
    assert ["delivery_1.parquet", "f", "10", "6"] in checks
    messages = _wait_for_messages(env.receiver, 1)
    assert len(messages) == 1, log[-5000:]
    text = messages[0]["text"]
    assert "airflow-pipeline: failure" in text
    assert "422" in text and "invalid" in text and "10 rows in the file, 6 rows loaded" in text


def test_dag_a_bad_file_is_rejected_and_the_retry_loads_the_next_one(env, airflow_home):
    """A corrupt file first in the bucket: the upload task's first try is answered 422 (the
    file is moved to rejected/), its retry loads delivery_1, and the run ends in success."""
    with env.s3fs.open_output_stream(f"{env.bucket}/a_corrupt.parquet") as out:
        out.write(b"not a parquet file")
    service = env.start()
    run = run_dag(airflow_home, service, "2025-01-04")
    log = run.stdout + run.stderr
    assert "POST /upload -> 422" in service.output() and "POST /upload -> 201" in service.output(), log[-5000:]
    assert any(k.endswith("_a_corrupt.parquet") for k in env.keys("rejected"))
    assert any(k.endswith("_a_corrupt.parquet.reason.txt") for k in env.keys("rejected"))
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries") == str(ROWS_PER_FILE)
    messages = _wait_for_messages(env.receiver, 1)
    assert len(messages) == 1, log[-5000:]
    assert "airflow-pipeline: success" in messages[0]["text"]
