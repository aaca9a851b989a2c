"""Validated add benchmark (issue 20): `datalab library add books --file` of a 1 000 000-row
CSV of which 30 % are bad rows (future year, unknown author, duplicate ISBN), against the
server's own limit for the same work: `psql \\copy` of just the 700 000 valid rows into the
same table with the same keys, references and indexes (no validation, no rejections, no
per-row report — the floor any validated insert stands on). Prints a Markdown table for
BENCHMARKS.md.

    ~/.cache/datalab/venv/bin/python bench/library/add_run.py [--rows 1000000]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = "title,author_id,isbn,publication_year,genre,copies_available,total_copies\n"


def env():
    e = dict(os.environ)
    e.setdefault("PGPASSWORD", os.environ.get("POSTGRES_PASSWORD", "it_one"))
    return e


def psql(*args):
    cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", os.environ.get("DB_HOST", "127.0.0.1"),
           "-p", os.environ.get("DB_PORT", "10452"), "-U", os.environ.get("POSTGRES_USER", "it_one"),
           "-d", os.environ.get("POSTGRES_DB", "it_one")]
    return subprocess.run(cmd + list(args), check=True, capture_output=True, text=True, env=env()).stdout


def timed(cmd, ok=(0,)):
    """(wall seconds, peak RSS MiB, stdout) of cmd under GNU time; exit codes in `ok` are fine."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env())
    wall = time.perf_counter() - start
    if r.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return wall, rss_kb / 1024, r.stdout


def write_inputs(rows, folder):
    """The input file (every tenth row 3, 6, 9 bad) and the file of just its valid rows."""
    full, valid = os.path.join(folder, "books.csv"), os.path.join(folder, "valid.csv")
    good = 0
    with open(full, "w") as f, open(valid, "w") as g:
        f.write(HEADER)
        for i in range(1, rows + 1):
            kind = i % 10
            if kind == 3:
                f.write(f"Future {i},1,B-{i},2999,Poetry,1,2\n")
            elif kind == 6:
                f.write(f"Orphan {i},424242,B-{i},2001,Poetry,1,2\n")
            elif kind == 9:
                f.write(f"Twin {i},2,B-{i - 1},2002,Poetry,1,2\n")
            else:
                line = f"Book {i},{1 + i % 100},B-{i},{1950 + i % 70},Poetry,1,{1 + i % 5}\n"
                f.write(line)
                g.write(line)
                good += 1
    return full, valid, good


def reset(datalab):
    subprocess.run([datalab, "run", "library", "--no-demo"], check=True, capture_output=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--datalab", default=os.path.join(ROOT, "build", "release", "datalab"))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        full, valid, good = write_inputs(a.rows, folder)
        results = []

        reset(a.datalab)
        wall, rss, out = timed([a.datalab, "library", "add", "books", "--file", full], ok=(0, 4))
        m = re.search(r"(\d+) received, (\d+) inserted.*?, (\d+) rejected", out)
        assert m and int(m.group(2)) == good and int(m.group(3)) == a.rows - good, out[:500]
        assert int(psql("-c", "SELECT count(*) FROM library.books WHERE isbn LIKE 'B-%'")) == good
        results.append((f"datalab library add ({a.rows:,} rows, {a.rows - good:,} rejected and listed)",
                        a.rows, wall, f"{rss:.0f} MiB"))

        reset(a.datalab)
        start = time.perf_counter()
        psql("-c", "\\copy library.books (title, author_id, isbn, publication_year, genre, copies_available, "
                   f"total_copies) FROM '{valid}' WITH (FORMAT csv)")
        copy = time.perf_counter() - start
        results.append((f"psql \\copy of the {good:,} valid rows only (server limit)", good, copy, "psql"))

        # The statement kind datalab runs, server-side: INSERT … SELECT … ON CONFLICT DO
        # NOTHING of the valid rows from a temp table (staged first, not timed).
        reset(a.datalab)
        out = psql("-c", "CREATE TEMP TABLE s (title text, author_id bigint, isbn text, publication_year integer, "
                         "genre text, copies_available integer, total_copies integer)",
                   "-c", "\\copy s (title, author_id, isbn, publication_year, genre, copies_available, "
                         f"total_copies) FROM '{valid}' WITH (FORMAT csv)",
                   "-c", "\\timing on",
                   "-c", "INSERT INTO library.books (title, author_id, isbn, publication_year, genre, "
                         "copies_available, total_copies) SELECT title, author_id, isbn, publication_year, genre, "
                         "copies_available, total_copies FROM s ON CONFLICT DO NOTHING")
        insert = float(re.findall(r"Time: ([\d.]+) ms", out)[-1]) / 1000
        results.append((f"server-side INSERT … SELECT … ON CONFLICT DO NOTHING of the {good:,} valid rows",
                        good, insert, "server-side"))

    print("| approach | rows | seconds | rows/s | peak memory |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, n, s, mem in results:
        print(f"| {name} | {n:,} | {s:.2f} | {n / s:,.0f} | {mem} |")
    print()
    print(f"datalab time / psql \\copy time: {results[0][2] / results[1][2]:.2f}x")
    print(f"datalab time / server-side INSERT time: {results[0][2] / results[2][2]:.2f}x")
    reset(a.datalab)  # leave the module in its default state


if __name__ == "__main__":
    main()
