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
