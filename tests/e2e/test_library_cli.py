"""The library module through the CLI, checked with psql."""

TABLES = ["authors", "books", "readers", "loans"]


def table_counts(psql):
    return {t: int(psql.scalar(f"SELECT count(*) FROM library.{t}")) for t in TABLES}


def table_checksums(psql):
    # Content fingerprints that ignore deleted_at's wall-clock value but not whether it is set.
    sums = {}
    for t in TABLES:
        sums[t] = psql.scalar(
            f"SELECT md5(string_agg((to_jsonb(x) - 'deleted_at')::text, ',' ORDER BY x.id)) FROM "
            f"(SELECT *, deleted_at IS NOT NULL AS deleted FROM library.{t}) x")
    return sums


def section(doc, title_start):
    return next(s for s in doc if s.get("title", "").startswith(title_start))


def test_run_twice_ends_in_the_same_state(datalab, psql):
    first = datalab.json("run", "library")
    counts_first, sums_first = table_counts(psql), table_checksums(psql)
    second = datalab.json("run", "library")
    assert table_counts(psql) == counts_first
    assert table_checksums(psql) == sums_first

    # What the run reports is what psql sees.
    reported = {r["name"]: r["live"] + r["deleted"] for r in section(second, "library tables")["rows"]}
    assert reported == counts_first
    loaded = {r["table"]: r["rows"] for r in section(first, "generated and loaded")["rows"]}
    assert loaded["authors"] == 100 and loaded["books"] == 10000
    assert loaded["readers"] == 100 and loaded["loans"] == 200
    # The demo's writes are exactly the difference between generated and final counts.
    assert counts_first["books"] > 10000 and counts_first["loans"] > 200


def test_sizes_and_seed_make_reproducible_data(datalab, psql):
    args = ["run", "library", "--authors", "50", "--books", "3000", "--readers", "30", "--loans", "400", "--no-demo"]
    datalab.run(*args, "--seed", "7")
    assert table_counts(psql) == {"authors": 50, "books": 3000, "readers": 30, "loans": 400}
    seven = table_checksums(psql)
    datalab.run(*args, "--seed", "8")
    eight = table_checksums(psql)
    datalab.run(*args, "--seed", "7")
    assert table_checksums(psql) == seven
    assert eight["books"] != seven["books"]
    # Spec ranges, checked by the database.
    assert psql.scalar("SELECT count(*) FROM library.books WHERE publication_year NOT BETWEEN 1950 AND 2023 "
                       "OR copies_available > total_copies OR isbn <> 'ISBN-' || id") == "0"
    assert psql.scalar("SELECT count(DISTINCT genre) FROM library.books") == "10"
    assert psql.scalar("SELECT count(*) FROM library.loans WHERE due_date - loan_date NOT BETWEEN 14 AND 60 "
                       "OR return_date - loan_date NOT BETWEEN 1 AND 90") == "0"


def test_add_from_csv_reports_every_rejected_row(datalab, psql, tmp_path):
    datalab.run("run", "library", "--no-demo")
    csv = tmp_path / "books.csv"
    csv.write_text(
        "title,author_id,isbn,publication_year,genre,copies_available,total_copies,shelf\n"
        "Good Book,1,CSV-1,2001,Poetry,1,2,A3\n"
        "Future Book,1,CSV-2,2999,Poetry,1,2,A3\n"
        "Greedy Book,1,CSV-3,2001,Poetry,5,2,A3\n"
        "Orphan Book,424242,CSV-4,2001,Poetry,1,2,A3\n"
        "Twin Book,2,CSV-1,2002,Poetry,1,2,A3\n"
        ",1,CSV-5,2001,Poetry,1,2,A3\n"
        "Comma, Unquoted,1,CSV-6,2001,Poetry,1,2,A3\n")
    result = datalab.run("library", "add", "books", "--file", str(csv), check=False)
    assert result.returncode == 4, result.stderr
    out = result.stdout
    assert "7 received, 1 inserted" in out
    assert "publication_year 2999 is in the future" in out
    assert "copies_available 5 must be between 0 and total_copies 2" in out
    assert "author 424242 does not exist" in out
    assert "duplicate ISBN 'CSV-1' (also in row 1)" in out
    assert "empty value for 'title'" in out
    assert "ignored unknown field(s): shelf" in out
    assert "malformed row, line 8: expected 8 fields, found 9" in out
    assert psql.query("SELECT title FROM library.books WHERE isbn LIKE 'CSV-%'") == [["Good Book"]]


def test_sql_in_a_name_is_stored_literally(datalab, psql):
    datalab.run("run", "library", "--no-demo")
    evil = "'); DROP TABLE library.books; --"
    datalab.run("library", "add", "authors", "--json",
                '{"first_name": "%s", "last_name": "Tables", "birth_date": "1970-01-01"}' % evil.replace('"', '\\"'))
    assert psql.scalar("SELECT count(*) FROM library.books") == "10000"
    assert psql.scalar("SELECT first_name FROM library.authors WHERE last_name = 'Tables'") == evil


def test_update_and_soft_delete_report_missing_ids(datalab, psql):
    datalab.run("run", "library", "--no-demo")
    ok = datalab.run("library", "delete-book", "--id", "10")
    assert "book 10 deleted" in ok.stdout
    assert psql.scalar("SELECT deleted_at IS NOT NULL FROM library.books WHERE id = 10") == "t"
    missing = datalab.run("library", "delete-book", "--id", "99999999", check=False)
    assert missing.returncode == 4
    assert "book 99999999 does not exist" in missing.stdout
    renamed = datalab.run("library", "update-reader", "--id", "3", "--first-name", "Grace", "--last-name", "Hopper")
    assert "renamed" in renamed.stdout
    assert psql.query("SELECT first_name, last_name FROM library.readers WHERE id = 3") == [["Grace", "Hopper"]]
    # A deleted book can no longer be loaned.
    result = datalab.run("library", "add", "loans", "--json",
                         '{"book_id": 10, "reader_id": 3, "loan_date": "2025-01-01", "due_date": "2025-01-20"}',
                         check=False)
    assert result.returncode == 4 and "book 10 is deleted" in result.stdout


def test_queries_as_json(datalab, psql):
    datalab.run("run", "library", "--loans", "5000")
    top = datalab.json("library", "query", "top-books", "--limit", "74")[0]["rows"]
    assert top, "some years have loans"
    by_year = {}
    for row in top:
        by_year.setdefault(row["year"], []).append(row)
    for year, rows in by_year.items():
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) <= 3
        expected = psql.query(
            "SELECT b.id, count(*) FROM library.loans l JOIN library.books b ON b.id = l.book_id "
            f"WHERE b.publication_year = {int(year)} AND b.deleted_at IS NULL AND l.deleted_at IS NULL "
            "GROUP BY b.id ORDER BY count(*) DESC, b.id LIMIT 3")
        assert [[str(r["book_id"]), str(r["loans"])] for r in rows] == expected
    page1 = datalab.json("library", "query", "books", "--limit", "5")[0]["rows"]
    page2 = datalab.json("library", "query", "books", "--after", str(page1[-1]["id"]), "--limit", "5")[0]["rows"]
    assert [r["id"] for r in page2] == [r["id"] + 5 for r in page1]
    loans = datalab.json("library", "query", "loans", "--limit", "5000")[0]["rows"]
    open_loans = [r for r in loans if r["open"]]
    assert open_loans and all(r["return_date"] is None for r in open_loans)
    import datetime
    for r in open_loans:
        due = datetime.date.fromisoformat(r["due_date"])
        assert r["return_or_expected"] == (due + datetime.timedelta(days=7)).isoformat()


def test_secrets_are_never_printed(datalab):
    secret = "Wr0ng-Secret-Value"
    failed = datalab.run("-s", f"POSTGRES_PASSWORD={secret}", "run", "library", check=False)
    assert failed.returncode == 3
    assert "password authentication failed" in failed.stderr
    assert secret not in failed.stdout + failed.stderr
    shown = datalab.run("-s", f"POSTGRES_PASSWORD={secret}", "config")
    assert secret not in shown.stdout and "********" in shown.stdout


def test_bad_flags_are_clear_errors(datalab):
    impossible = datalab.run("run", "library", "--books", "2", "--readers", "2", "--loans", "5", check=False)
    assert impossible.returncode == 2
    assert "at most 2 x 2 = 4" in impossible.stderr
    bad_date = datalab.run("run", "library", "--as-of", "2025-02-30", check=False)
    assert bad_date.returncode == 2 and "--as-of '2025-02-30'" in bad_date.stderr
