"""Week 9 delivery pipeline: upload -> check, then a success or failure notification.

Every step is a call to the datalab delivery service (`datalab serve`) through the
`backend` HTTP connection (AIRFLOW_CONN_BACKEND, e.g. http://127.0.0.1:10459):
  upload             POST /upload                (201 loaded, 409 nothing to load)
  check              GET  /validate-last-upload  (200 valid, 422 invalid)
  notify_success     POST /notification          when upload and check both succeeded
  notify_failure     POST /notification          when either of them failed
Each task keeps the service's answer in XCom (key "response"), so the failure message
carries the details (e.g. the row counts of an invalid check).

Settings (environment): DATALAB_DAG_RETRIES (default 3) and DATALAB_DAG_RETRY_DELAY_SECONDS
(default 60) for the upload and check tasks; DATALAB_API_TOKEN when the service wants a
bearer token.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.http.operators.http import HttpOperator
from airflow.sdk import DAG

RETRIES = int(os.environ.get("DATALAB_DAG_RETRIES", "3"))
RETRY_DELAY = timedelta(seconds=float(os.environ.get("DATALAB_DAG_RETRY_DELAY_SECONDS", "60")))
HEADERS = {"Content-Type": "application/json"}
if os.environ.get("DATALAB_API_TOKEN"):
    HEADERS["Authorization"] = f"Bearer {os.environ['DATALAB_API_TOKEN']}"


def keep_response(expected_status: int):
    """A response check that stores the service's answer in XCom, then passes only on the
    expected status (the hook's own status check is off so the body is always kept)."""

    def check(response, ti=None, **_):
        if ti is not None:
            ti.xcom_push(key="response", value=f"HTTP {response.status_code} {response.text.strip()}")
        return response.status_code == expected_status

    return check


def notification_body(result: str) -> str:
    # Rendered by Jinja into one JSON document; tojson escapes whatever the service said.
    return (
        "{{ {'dag_id': dag.dag_id,"
        " 'dag_execution_time': ((logical_date or dag_run.run_after) | string),"
        f" 'result': '{result}',"
        " 'details': 'upload: ' ~ (ti.xcom_pull(task_ids='upload', key='response') or 'no answer (not run or failed to connect)')"
        " ~ '; check: ' ~ (ti.xcom_pull(task_ids='check', key='response') or 'no answer (not run or failed to connect)')"
        "} | tojson }}"
    )


with DAG(
    dag_id="airflow-pipeline",
    description="Delivery files: upload to PostgreSQL, check, notify (datalab week 9)",
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["datalab", "week9"],
) as dag:
    upload = HttpOperator(
        task_id="upload",
        http_conn_id="backend",
        endpoint="/upload",
        method="POST",
        headers=HEADERS,
        extra_options={"check_response": False},
        response_check=keep_response(201),
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
    )
    check = HttpOperator(
        task_id="check",
        http_conn_id="backend",
        endpoint="/validate-last-upload",
        method="GET",
        headers=HEADERS,
        extra_options={"check_response": False},
        response_check=keep_response(200),
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
    )
    notify_success = HttpOperator(
        task_id="notify_success",
        http_conn_id="backend",
        endpoint="/notification",
        method="POST",
        headers=HEADERS,
        data=notification_body("success"),
        trigger_rule="all_success",
    )
    notify_failure = HttpOperator(
        task_id="notify_failure",
        http_conn_id="backend",
        endpoint="/notification",
        method="POST",
        headers=HEADERS,
        data=notification_body("failure"),
        trigger_rule="one_failed",
    )
    upload >> check >> [notify_success, notify_failure]
    upload >> notify_failure
