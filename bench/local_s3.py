"""Shared by the benchmark scripts: the environment for the local S3 server (SeaweedFS)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def with_local_s3(env):
    """A copy of env with S3_ENDPOINT and keys from .state/seaweedfs/s3.env, unless it names
    an endpoint already. Exits with a hint when no local S3 server has been started."""
    e = dict(env)
    if not e.get("S3_ENDPOINT"):
        path = os.path.join(ROOT, ".state", "seaweedfs", "s3.env")
        if not os.path.exists(path):
            sys.exit("no S3 server: run services/ctl start seaweedfs")
        for line in open(path):
            if line.startswith("export "):
                k, _, v = line[7:].strip().partition("=")
                e[k] = v
    return e


def with_local_services(env):
    """with_local_s3(env) plus the PostgreSQL settings' defaults (the local server's)."""
    e = with_local_s3(env)
    e.setdefault("DB_HOST", "127.0.0.1")
    e.setdefault("DB_PORT", "10452")
    e.setdefault("POSTGRES_DB", "it_one")
    e.setdefault("POSTGRES_USER", "it_one")
    e.setdefault("POSTGRES_PASSWORD", "it_one")
    return e


def remove_bucket(s3, bucket):
    """Deletes every object of a bench bucket, then the bucket (boto3 client); reports and
    carries on when it cannot (a bucket never made, ...)."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=o["Key"])
        s3.delete_bucket(Bucket=bucket)
    except Exception as e:  # noqa: BLE001 (bucket never made, etc.)
        print(f"cleanup (S3): {e}", file=sys.stderr)
