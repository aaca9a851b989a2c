"""The delivery service (`datalab serve`) under careless or hostile clients (issue 20): slow
clients, a second instance on a port in use, bad files at the bucket root, malformed
requests. Each test runs the binary against the real S3 server and PostgreSQL; every
connection goes to 127.0.0.1 only."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import ROOT
# The service, its bucket and receiver come from the Airflow pipeline's tests (same fixtures).
from test_airflow_pipeline import FILES, ROWS_PER_FILE, _free_port, env, s3, s3fs  # noqa: F401

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

TOKEN = "s3cret-delivery-token"


def raw_request(port, data, timeout=10):
    """Sends bytes as they are (no client fixing up the request) and returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
            length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def timed_health(url, timeout):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as response:
            return response.status, time.monotonic() - start
    except OSError as e:
        return repr(e), time.monotonic() - start


# ---- slow clients ---------------------------------------------------------------------------

class SlowLoris:
    """`count` connections that send a request's headers one byte per second, each reconnecting
    when the service cuts it; stops by itself after `seconds`."""

    def __init__(self, port, count, seconds):
        self.port, self.count, self.seconds = port, count, seconds
        self.cut = 0  # connections the service closed
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def _run(self):
        end = time.monotonic() + self.seconds
        header = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
        while time.monotonic() < end:
            try:
                conn = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            except OSError:
                time.sleep(0.2)
                continue
            with conn:
                conn.setblocking(False)
                for byte in header:
                    if time.monotonic() >= end:
                        return
                    try:
                        conn.send(bytes([byte]))
                        if conn.recv(1024) == b"":  # closed by the service
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass
                    except OSError:
                        with self.lock:
                            self.cut += 1
                        break
                    time.sleep(1)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        for t in self.threads:
            t.join(timeout=self.seconds + 5)


def test_ten_slow_clients_do_not_stall_health(env):
    service = env.start(seed=False)
    answers = []
    with SlowLoris(service.port, count=12, seconds=12) as slow:
        time.sleep(1.5)  # every slow client holds its connection
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline:
            answers.append(timed_health(service.url, timeout=5))
            time.sleep(0.5)
    assert answers and all(status == 200 and seconds < 2 for status, seconds in answers), answers
    # The header deadline (5 s) cut the slow connections instead of waiting for them.
    assert slow.cut >= 12, f"only {slow.cut} slow connections were closed by the service"


# ---- the port -------------------------------------------------------------------------------

def _serve(datalab_binary, port, extra_env=None, timeout=30, host_args=()):
    # A token only when the test gives one (a token in the caller's environment would hide a refusal).
    env = {key: value for key, value in os.environ.items() if key != "DATALAB_API_TOKEN"}
    env.update(extra_env or {})
    try:
        return subprocess.run([datalab_binary, "serve", "--no-seed", "--port", str(port), *host_args], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"datalab serve --port {port} kept running: it must refuse and exit") from e


def test_a_second_service_on_a_port_in_use_exits_3_and_the_token_still_holds(env, datalab, s3):
    service = env.start(seed=False, extra_env={"DATALAB_API_TOKEN": TOKEN})
    second = _serve(datalab.binary, service.port, extra_env=dict(s3, DELIVERY_BUCKET=env.bucket))
    assert second.returncode == 3, second.stderr
    assert "already in use" in second.stderr and str(service.port) in second.stderr
    assert TOKEN not in second.stderr + second.stdout
    # Every request reaches the instance with the token: none gets through without it.
    statuses = [service.request("POST", "/upload")[0] for _ in range(10)]
    assert statuses == [401] * 10
    assert service.request("GET", "/health")[0] == 200


def test_listening_beyond_loopback_needs_a_token(env, datalab):
    refused = _serve(datalab.binary, _free_port(), host_args=("--host", "0.0.0.0"))
    assert refused.returncode == 2, refused.stderr
    assert "DATALAB_API_TOKEN" in refused.stderr and "0.0.0.0" in refused.stderr
    # With a token it listens on every address, and every request but /health needs the token.
    service = env.start(seed=False, host="0.0.0.0", extra_env={"DATALAB_API_TOKEN": TOKEN})
    assert service.request("GET", "/health")[0] == 200
    assert service.request("POST", "/upload")[0] == 401


@pytest.mark.parametrize("port", ["70000", "0", "-1", "65536"])
def test_a_port_outside_1_to_65535_is_a_bad_flag(datalab, port):
    result = _serve(datalab.binary, port)
    assert result.returncode == 2, result.stderr
    assert "between 1 and 65535" in result.stderr and port in result.stderr


# ---- bad files at the bucket root -----------------------------------------------------------

def _table(columns):
    return pa.table(columns)


def _good_columns():
    return {
        "delivery_id": pa.array(["X-1", "X-2"]),
        "item_type": pa.array(["bagel", "scone"]),
        "quantity": pa.array([3, 4], pa.int32()),
        "price_per_unit": pa.array([1.25, 2.5]),
        "manufacture_datetime": pa.array([1700000000000000, 1700000360000000], pa.timestamp("us")),
    }


def _put(env, key, data):
    with env.s3fs.open_output_stream(f"{env.bucket}/{key}") as out:
        out.write(data)


def _put_table(env, key, table):
    with env.s3fs.open_output_stream(f"{env.bucket}/{key}") as out:
        pq.write_table(table, out)


def _read(env, key):
    with env.s3fs.open_input_stream(f"{env.bucket}/{key}") as f:
        return f.read().decode()


def test_bad_files_are_moved_aside_with_the_reason_and_the_good_file_behind_loads(env):
    # Keys sort before the five delivery files that the service writes on start.
    _put(env, "a_corrupt.parquet", b"PAR1 this is not a parquet file at all PAR1")
    no_id = _good_columns()
    del no_id["delivery_id"]
    _put_table(env, "b_no_delivery_id.parquet", _table(no_id))
    wrong_type = _good_columns()
    wrong_type["quantity"] = pa.array(["two dozen", "a few"])
    _put_table(env, "c_wrong_type.parquet", _table(wrong_type))
    negative = _good_columns()
    negative["quantity"] = pa.array([5, -3], pa.int32())
    _put_table(env, "d_negative_quantity.parquet", _table(negative))
    service = env.start()

    expected = [
        ("a_corrupt.parquet", "Parquet"),
        ("b_no_delivery_id.parquet", "no column 'delivery_id'"),
        ("c_wrong_type.parquet", "column 'quantity' has type string"),
        ("d_negative_quantity.parquet", "bakery_deliveries"),
    ]
    for name, reason in expected:
        status, body = service.request("POST", "/upload")
        assert status == 422, body
        assert body["status"] == "rejected" and body["file"] == name
        assert reason in body["reason"], body
        assert body["rejected_key"].startswith("rejected/") and body["rejected_key"].endswith("_" + name)
        assert name not in env.keys(), "a rejected file must leave the bucket root"
        assert body["rejected_key"] in env.keys("rejected")
        sidecar = _read(env, body["rejected_key"] + ".reason.txt")
        assert name in sidecar and reason in sidecar

    # The good file behind them loads, and nothing of the rejected ones is in the table.
    status, body = service.request("POST", "/upload")
    assert status == 201 and body["file"] == "delivery_1.parquet", body
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries") == str(ROWS_PER_FILE)
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.bakery_deliveries "
                           "WHERE source_file <> 'delivery_1.parquet'") == "0"
    assert env.psql.scalar("SELECT count(*) FROM airflow_pipeline.uploads") == "1"
    status, body = service.request("GET", "/validate-last-upload")
    assert status == 200 and body["source_file"] == "delivery_1.parquet"
    assert [k for k in env.keys() if "/" not in k] == FILES[1:]


# ---- malformed requests ---------------------------------------------------------------------

def _notification(**overrides):
    body = {"dag_id": "airflow-pipeline", "dag_execution_time": "2025-01-01T00:00:00+00:00",
            "result": "success", "details": "ok"}
    body.update(overrides)
    return json.dumps(body)


def test_notification_with_invalid_utf8_is_400(env):
    service = env.start(seed=False)
    body = b'{"dag_id": "d\xff\xfe", "dag_execution_time": "2025-01-01T00:00:00+00:00", ' \
           b'"result": "success", "details": "x"}'
    status, answer = service.request("POST", "/notification", body, {"Content-Type": "application/json"})
    assert status == 400 and answer["status"] == "bad_request"
    assert "UTF-8" in answer["error"]
    assert env.receiver.messages == []


@pytest.mark.parametrize("overrides, field", [
    ({"result": "maybe"}, "result"),
    ({"result": "SUCCESS!"}, "result"),
    ({"dag_execution_time": "notadate"}, "dag_execution_time"),
    ({"dag_execution_time": "2025-02-30T00:00:00+00:00"}, "dag_execution_time"),
    ({"dag_execution_time": "2025-01-01"}, "dag_execution_time"),
])
def test_notification_validates_result_and_execution_time(env, overrides, field):
    service = env.start(seed=False)
    status, answer = service.request("POST", "/notification", _notification(**overrides))
    assert status == 400 and field in answer["error"], answer
    assert env.receiver.messages == []


@pytest.mark.parametrize("when", ["2025-01-01T00:00:00+00:00", "2025-01-01 00:00:00+00:00",
                                  "2025-06-30T12:34:56.789012Z", "2024-02-29T23:59:59"])
def test_notification_accepts_what_airflow_sends(env, when):
    service = env.start(seed=False)
    status, answer = service.request("POST", "/notification", _notification(dag_execution_time=when,
                                                                            result="failure"))
    assert status == 200 and answer["status"] == "sent", answer
    assert len(env.receiver.messages) == 1


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(env, scheme):
    service = env.start(seed=False, extra_env={"DATALAB_API_TOKEN": TOKEN})
    status, body = service.request("POST", "/upload", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert status == 409 and body["status"] == "nothing_to_upload", body
    assert service.request("POST", "/upload", headers={"Authorization": f"{scheme} wrong"})[0] == 401
    assert service.request("POST", "/upload", headers={"Authorization": f"Basic {TOKEN}"})[0] == 401
    service.stop()
    assert TOKEN not in service.output()


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/upload", "POST"),
    ("DELETE", "/upload", "POST"),
    ("POST", "/health", "GET"),
    ("PUT", "/validate-last-upload", "GET"),
    ("GET", "/notification", "POST"),
    ("PATCH", "/notification", "POST"),
])
def test_a_wrong_method_is_405_with_allow(env, method, path, allow):
    service = env.start(seed=False)
    status, headers, body = raw_request(
        service.port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    assert status == 405, body
    assert allow in [m.strip() for m in headers.get("allow", "").split(",")], headers
    assert json.loads(body)["status"] == "method_not_allowed"
    assert raw_request(service.port, b"GET /no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[0] == 404


def test_post_upload_without_a_body_is_an_upload_and_notification_without_one_says_why(env):
    """/upload takes no body (SPEC: it loads the next file of the bucket): a POST with neither
    Content-Length nor Transfer-Encoding (curl -X POST) is an upload, answered in JSON."""
    service = env.start()
    status, headers, body = raw_request(service.port, b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 201, body
    answer = json.loads(body)
    assert answer["status"] == "loaded" and answer["file"] == "delivery_1.parquet"
    status, headers, body = raw_request(service.port, b"POST /notification HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 400 and headers.get("content-type", "").startswith("application/json")
    answer = json.loads(body)
    assert answer["status"] == "bad_request" and "empty" in answer["error"] and "dag_id" in answer["error"]
    # cpp-httplib's own refusals are JSON too.
    status, headers, body = raw_request(service.port, b"POST /notification HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                      b"Content-Length: 1000000\r\n\r\n")
    assert status == 413 and "error" in json.loads(body)
