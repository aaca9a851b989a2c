"""Library load benchmark: datalab against (a) the original project's pandas to_sql
approach and (b) the server's own INSERT ... SELECT generate_series, side by side in one
run. Prints a Markdown table for BENCHMARKS.md.

    ~/.cache/datalab/venv/bin/python bench/library/run.py [--books 1000000] [--pandas-books 20000]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from gnu_time import timed  # noqa: E402
SQL = os.path.join(ROOT, "src", "modules", "library", "sql")
HERE = os.path.dirname(os.path.abspath(__file__))


def env():
    e = dict(os.environ)
    e.setdefault("PGPASSWORD", os.environ.get("POSTGRES_PASSWORD", "it_one"))
    return e


def psql(*args, variables=None):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", os.environ.get("DB_HOST", "127.0.0.1"),
           "-p", os.environ.get("DB_PORT", "10452"), "-U", os.environ.get("POSTGRES_USER", "it_one"),
           "-d", os.environ.get("POSTGRES_DB", "it_one")]
    for k, v in (variables or {}).items():
        cmd += ["-v", f"{k}={v}"]
    return subprocess.run(cmd + list(args), check=True, capture_output=True, text=True, env=env())



def main():
    p = argparse.ArgumentParser()
    p.add_argument("--books", type=int, default=1_000_000)
    p.add_argument("--authors", type=int, default=100_000)
    p.add_argument("--pandas-books", type=int, default=20_000)
    p.add_argument("--datalab", default=os.path.join(ROOT, "build", "release", "datalab"))
    a = p.parse_args()
    rows = a.books + a.authors
    results = []

    # datalab: generate + COPY binary + keys and indexes, one command.
    wall, rss, out = timed([a.datalab, "--format", "json", "run", "library", "--authors", str(a.authors),
                            "--books", str(a.books), "--readers", "0", "--loans", "0", "--no-demo"], env=env())
    phases = next(s["rows"] for s in json.loads(out) if s.get("title", "").startswith("generated and loaded"))
    copy_seconds = sum(p["seconds"] for p in phases if p["table"] != "keys and indexes")
    results.append(("datalab (generate → Arrow → COPY binary, then keys/indexes)", rows, wall, f"{rss:.0f} MiB"))

    # (b) server side: same DDL, INSERT ... SELECT generate_series, same keys/indexes.
    start = time.perf_counter()
    psql("-f", os.path.join(SQL, "create_tables.sql"))
    psql("-f", os.path.join(HERE, "server_side.sql"), variables={"authors": a.authors, "books": a.books})
    psql("-f", os.path.join(SQL, "add_constraints.sql"))
    server = time.perf_counter() - start
    results.append(("server-side INSERT … SELECT generate_series (same DDL, keys/indexes)", rows, server,
                     "server-side (client: psql)"))

    # (a) the original's approach on a smaller size, into the constrained tables.
    psql("-f", os.path.join(SQL, "create_tables.sql"))
    psql("-f", os.path.join(SQL, "add_constraints.sql"))
    pandas_authors = max(1, a.pandas_books // 10)
    wall, rss, out = timed([sys.executable, os.path.join(HERE, "pandas_to_sql.py"), str(pandas_authors),
                            str(a.pandas_books)], env=env())
    load = float(re.search(r"load_seconds=([\d.]+)", out).group(1))
    results.append(("original: pandas to_sql(method='multi', chunksize=100)", pandas_authors + a.pandas_books,
                    load, f"{rss:.0f} MiB"))

    rate = {name: n / s for name, n, s, _ in results}
    dl, srv, orig = (results[0][0], results[1][0], results[2][0])
    print("| approach | rows | seconds | rows/s | peak memory |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, n, s, mem in results:
        print(f"| {name} | {n:,} | {s:.2f} | {n / s:,.0f} | {mem} |")
    print()
    print(f"datalab / original rows/s, end to end with keys and indexes: {rate[dl] / rate[orig]:.1f}x")
    print(f"datalab / original rows/s, generate + COPY phase only ({copy_seconds:.2f} s): "
          f"{rows / copy_seconds / rate[orig]:.1f}x")
    print(f"datalab time / server-side time: {(rows / rate[dl]) / (rows / rate[srv]):.2f}x")

    # Leave the module in its default state for whoever runs next.
    subprocess.run([a.datalab, "run", "library", "--no-demo"], check=True, capture_output=True)


if __name__ == "__main__":
    main()
