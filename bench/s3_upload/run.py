"""s3_upload export benchmark: PostgreSQL products -> Parquet on the S3 server, datalab
against the original project's approach (ADBC PostgreSQL driver -> pyarrow -> Parquet -> S3,
in Python), side by side in one run, at each table size. Prints a Markdown table for
BENCHMARKS.md (seconds, rows/s, peak memory from /usr/bin/time -v, throughput ratio).

    services/ctl start postgres seaweedfs
    ~/.cache/datalab/venv/bin/python bench/s3_upload/run.py [--rows 1000000,10000000]
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from gnu_time import timed  # noqa: E402
from local_s3 import with_local_s3  # noqa: E402
HERE = os.path.dirname(os.path.abspath(__file__))
BUCKET = "bench-s3-upload"


def env():
    e = with_local_s3(os.environ)
    e["S3_BUCKET"] = BUCKET
    return e



def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default="1000000,10000000", help="comma-separated table sizes")
    p.add_argument("--datalab", default=os.path.join(ROOT, "build", "release", "datalab"))
    a = p.parse_args()
    lines = ["| products | approach | seconds | rows/s | peak memory | throughput vs original |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for n in [int(x) for x in a.rows.split(",")]:
        # Generate the table once (not timed), then time the export alone.
        subprocess.run([a.datalab, "run", "s3_upload", "--products", str(n), "--orders", "0", "--no-iceberg",
                        "--results", ""], check=True, capture_output=True, env=env())
        dl_wall, dl_rss, _ = timed([a.datalab, "--format", "json", "run", "s3_upload", "--no-generate",
                                    "--no-iceberg", "--results", ""], env=env())
        base_wall, base_rss, out = timed([sys.executable, os.path.join(HERE, "adbc_baseline.py"), BUCKET,
                                          "products_baseline.parquet"], env=env())
        rows = int(re.search(r"rows=(\d+)", out).group(1))
        assert rows == n, f"baseline exported {rows} rows, expected {n}"
        price_type = re.search(r"price_type=(\S+)", out).group(1)
        ratio = base_wall / dl_wall
        lines.append(f"| {n:,} | datalab (COPY binary → Arrow batches → Parquet, streamed to S3) | {dl_wall:.2f} | "
                     f"{n / dl_wall:,.0f} | {dl_rss:.0f} MiB | {ratio:.2f}× |")
        lines.append(f"| {n:,} | original: ADBC fetch_arrow_table → pyarrow write_table to S3 (price: {price_type}) | "
                     f"{base_wall:.2f} | {n / base_wall:,.0f} | {base_rss:.0f} MiB | 1.00× |")
        print(lines[-2] + "\n" + lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
