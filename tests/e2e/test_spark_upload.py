"""spark_upload end to end: the same products CSV through `--engine native` (datalab alone) and
`--engine spark` (the real Spark cluster through datalab's Spark Connect client) must leave the
same rows in PostgreSQL and reject the same rows for the same reasons. Independent clients check
the result: psql for the tables, pyarrow for products.parquet on the S3 server."""
import csv
import json
import os
import subprocess
import uuid

import pytest

from conftest import ROOT, s3_env

pafs = pytest.importorskip("pyarrow.fs")
pq = pytest.importorskip("pyarrow.parquet")

# Edge cases on both sides of every rule (product_rules.h): (Product, Price, expected reason or None).
EDGE_CASES = [
    ("Laptop", "472.15", None),
    ("Padded Price", "  12.5  ", None),          # spaces are trimmed
    ("Round Up", "1.005", None),                 # -> 1.01 (half up)
    ("Round Down", "2.004", None),               # -> 2.00
    ("Negative Zero", "-0.004", None),           # rounds to 0.00: not negative
    ("Plus Sign", "+7", None),
    ("Leading Zeros", "007.50", None),
    ("Ten Digits", "9999999999.99", None),
    ("Comma, Quoted", "3.00", None),             # a quoted name with a comma
    ("", "19.99", "missing product name"),
    ("   ", "19.99", "missing product name"),
    ("No Price", "", "missing price"),
    ("Blank Price", "   ", "missing price"),
    ("Words", "n/a", "price is not a number"),
    ("Exponent", "1e3", "price is not a number"),
    ("Trailing Dot", "5.", "price is not a number"),
    ("Leading Dot", ".5", "price is not a number"),
    ("Comma Decimal", "4,50", "price is not a number"),
    ("Tab", "\t5", "price is not a number"),
    ("Eleven Digits", "12345678901", "price out of range"),
    ("Rounds Over", "9999999999.995", "price out of range"),
    ("Refund", "-5.00", "negative price"),
    ("Tiny Negative", "-0.005", "negative price"),  # rounds to -0.01
]


class Runner:
    """Runs `datalab run spark_upload` in a bucket of its own (one source, untouched by others)."""

    def __init__(self, datalab, tmp_path):
        self.datalab = datalab
        self.tmp_path = tmp_path
        self.env = dict(os.environ, **s3_env())
        self.env["SPARK_BUCKET"] = f"e2e-spark-{uuid.uuid4().hex[:8]}"
        self.source = f"s3://{self.env['SPARK_BUCKET']}/products.parquet"

    def run(self, *args, env=None):
        results = self.tmp_path / f"results-{uuid.uuid4().hex[:6]}.json"
        r = subprocess.run([self.datalab.binary, "run", "spark_upload", "--results", str(results), *args],
                           capture_output=True, text=True, cwd=ROOT, timeout=600, env=dict(self.env, **(env or {})))
        r.results = json.loads(results.read_text()) if results.exists() else None
        return r


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Product", "Price"])
        w.writerows(rows)


def table_rows(psql, source):
    return sorted(tuple(r) for r in psql.query(
        f"SELECT name, price::text FROM spark_upload.products WHERE source = '{source}'"))


def rejected_rows(psql, source):
    return sorted(tuple(r) for r in psql.query(
        f"SELECT coalesce(product, '<null>'), coalesce(price, '<null>'), reason "
        f"FROM spark_upload.products_rejected WHERE source = '{source}'"))


@pytest.fixture
def runner(datalab, tmp_path):
    runner = Runner(datalab, tmp_path)
    yield runner
    # The run's own bucket goes with it.
    env = runner.env
    fs = pafs.S3FileSystem(endpoint_override=env["S3_ENDPOINT"].partition("://")[2], scheme="http",
                           access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"],
                           region="us-east-1", allow_bucket_deletion=True)
    if fs.get_file_info(env["SPARK_BUCKET"]).type != pafs.FileType.NotFound:
        fs.delete_dir(env["SPARK_BUCKET"])


def test_engines_load_the_same_rows_and_reject_the_same_rows(runner, psql, tmp_path):
    csv_path = tmp_path / "edge.csv"
    write_csv(csv_path, [(p, price) for p, price, _ in EDGE_CASES])
    expected_rejects = sorted((p, price, reason) for p, price, reason in EDGE_CASES if reason)
    accepted = [p for p, _, reason in EDGE_CASES if not reason]

    outcome = {}
    for engine in ("native", "spark"):
        r = runner.run("--engine", engine, "--input", str(csv_path), "--show", "50")
        assert r.returncode == 4, f"{engine}: expected exit 4 (rows rejected), got {r.returncode}:\n{r.stderr}"
        assert f"{len(expected_rejects)} rows rejected" in r.stderr
        assert r.results["loaded"] == len(accepted) and r.results["rejected"] == len(expected_rejects)
        outcome[engine] = (table_rows(psql, runner.source), rejected_rows(psql, runner.source))
        for _, _, reason in expected_rejects:  # every reason shows in the report
            assert reason in r.stdout

    native, spark = outcome["native"], outcome["spark"]
    assert native[0] == spark[0], "the engines loaded different rows"
    assert native[1] == spark[1], "the engines rejected different rows"
    assert native[1] == expected_rejects
    prices = dict(native[0])
    assert prices["Round Up"] == "1.01" and prices["Round Down"] == "2.00"
    assert prices["Negative Zero"] == "0.00" and prices["Plus Sign"] == "7.00"
    assert prices["Padded Price"] == "12.50" and prices["Ten Digits"] == "9999999999.99"
    assert prices["Comma, Quoted"] == "3.00"


def test_generated_products_same_result_on_both_engines_and_reruns_do_not_duplicate(runner, psql):
    results = []
    for engine in ("native", "spark", "native"):
        r = runner.run("--engine", engine, "--rows", "5000", "--bad-rows", "20", "--seed", "7")
        assert r.returncode == 4, r.stderr
        where = f"WHERE source = '{runner.source}'"
        results.append((
            psql.scalar(f"SELECT count(*) FROM spark_upload.products {where}"),
            psql.scalar(f"SELECT sum(price) FROM spark_upload.products {where}"),
            psql.scalar(f"SELECT count(*) FROM spark_upload.products_rejected {where}"),
            psql.scalar(f"SELECT count(DISTINCT created_at) FROM spark_upload.products {where}")))
    native, spark, rerun = results
    assert (native[0], native[2], native[3]) == ("4980", "20", "1")
    assert spark == native, "Spark and native results differ"
    assert rerun == native, "a rerun changed the result"


def test_spark_engine_reads_products_parquet_again_after_it_changed(runner, psql):
    # Every run overwrites products.parquet; a Spark that cached the old object's size fails here.
    for rows in (1000, 2500, 1200):
        r = runner.run("--engine", "spark", "--rows", str(rows), "--seed", str(rows))
        assert r.returncode == 0, r.stderr
        assert _source_rows(psql, runner.source) == str(rows)


def test_products_parquet_keeps_the_csv_text(runner):
    csv_path = runner.tmp_path / "small.csv"
    write_csv(csv_path, [("Mouse", "854.76"), ("Odd", " 1e3 ")])
    r = runner.run("--input", str(csv_path))
    assert r.returncode == 4, r.stderr  # " 1e3 " is rejected
    env = s3_env()
    fs = pafs.S3FileSystem(access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"],
                           endpoint_override=env["S3_ENDPOINT"], scheme="http", region="us-east-1")
    table = pq.read_table(f"{runner.env['SPARK_BUCKET']}/products.parquet", filesystem=fs)
    assert table.column_names == ["Product", "Price"]
    assert table.to_pylist() == [{"Product": "Mouse", "Price": "854.76"}, {"Product": "Odd", "Price": " 1e3 "}]


def test_malformed_csv_lines_are_kept_with_the_line(runner, psql):
    path = runner.tmp_path / "malformed.csv"
    path.write_text("Product,Price\nGood,1.50\nToo,Many,Fields\nAlso Good,2.50\n")
    for engine in ("native", "spark"):
        r = runner.run("--engine", engine, "--input", str(path))
        assert r.returncode == 4, r.stderr
        assert r.results["loaded"] == 2 and r.results["rejected"] == 1
        rows = psql.query(f"SELECT csv_line, raw, reason FROM spark_upload.products_rejected "
                          f"WHERE source = '{runner.source}'")
        assert rows == [["3", "Too,Many,Fields", "malformed CSV line: expected 2 fields, found 3"]], rows


def test_missing_price_column_is_a_clear_error(runner):
    path = runner.tmp_path / "wrong.csv"
    path.write_text("Product,Cost\nMouse,1.00\n")
    r = runner.run("--input", str(path))
    assert r.returncode == 2
    assert "has no Price column (header: Product,Cost)" in r.stderr


def _source_rows(psql, source):
    return psql.scalar(f"SELECT count(*) FROM spark_upload.products WHERE source = '{source}'")


def test_unreachable_spark_writes_nothing(runner, psql):
    assert runner.run("--rows", "100").returncode == 0
    r = runner.run("--engine", "spark", "--rows", "300", env={"SPARK_CONNECT_URL": "sc://127.0.0.1:1"})
    assert r.returncode == 3, r.stderr
    assert "cannot reach Spark Connect at sc://127.0.0.1:1" in r.stderr
    assert _source_rows(psql, runner.source) == "100"


def test_unreachable_s3_writes_nothing(runner, psql):
    assert runner.run("--rows", "100").returncode == 0
    for engine in ("native", "spark"):
        r = runner.run("--engine", engine, "--rows", "300", env={"S3_ENDPOINT": "http://127.0.0.1:1"})
        assert r.returncode == 3, r.stderr
        assert "127.0.0.1:1" in r.stderr
        assert runner.env["AWS_SECRET_ACCESS_KEY"] not in r.stderr + r.stdout
        assert _source_rows(psql, runner.source) == "100"


def test_spark_sql_command_runs_on_the_cluster(datalab):
    r = datalab.run("--format", "json", "spark", "sql", "SELECT id, id * 2 AS twice FROM range(3)")
    rows = json.loads(r.stdout)[0]["rows"]
    assert rows == [{"id": 0, "twice": 0}, {"id": 1, "twice": 2}, {"id": 2, "twice": 4}]
    shown = datalab.run("spark", "sql", "SELECT 'hello' AS greeting", "--show", "5").stdout
    assert "|greeting|" in shown and "|   hello|" in shown


def test_reference_products_csv_loads_completely_on_both_engines(runner, psql):
    reference = os.path.join(os.path.dirname(ROOT), "shared", "reference-data", "spark_products.csv")
    assert os.path.exists(reference), f"{reference} missing (../shared beside the checkout)"
    with open(reference, newline="") as f:
        expected = sorted((row["Product"], row["Price"]) for row in csv.DictReader(f))
    for engine in ("native", "spark"):
        r = runner.run("--engine", engine, "--input", reference)
        assert r.returncode == 0, r.stderr
        assert table_rows(psql, runner.source) == expected
