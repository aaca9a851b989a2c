"""The library module through the CLI, checked with psql."""
import json

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


# ---- issue 20: bad rows never cost good rows; large inputs; concurrent runs ----------------

AUTHOR_HEADER = "first_name,last_name,birth_date\n"


def add_file(datalab, tmp_path, table, name, content, *extra):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return datalab.run("library", "add", table, "--file", str(path), *extra, check=False)


class Added:
    """`library add` with the JSON report: the summary note and every rejection in full."""
    def __init__(self, result):
        self.returncode, self.stderr = result.returncode, result.stderr
        doc = json.loads(result.stdout) if result.stdout.strip() else []
        self.note = next((s["note"] for s in doc if "note" in s), "")
        rejected = next((s["rows"] for s in doc if s.get("title", "").startswith("rejected")), [])
        self.reasons = {r["row"]: r["reason"] for r in rejected}
        self.stdout = self.note + "\n" + "\n".join(f"{k}: {v}" for k, v in sorted(self.reasons.items()))


def add_file_json(datalab, tmp_path, table, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return Added(datalab.run("--format", "json", "library", "add", table, "--file", str(path), check=False))


def test_bad_bytes_in_csv_reject_only_their_rows(datalab, psql, tmp_path):
    datalab.run("run", "library", "--no-demo")
    rows = [
        b"Good,One,1980-01-01",
        b"Nul\x00Byte,Two,1980-01-02",          # NUL: the database cannot store it in text
        b"Year,Zero,0000-01-01",                # no year 0 in the calendar or in PostgreSQL
        b"Bad,Utf\xff\xfe8,1980-01-03",         # not UTF-8
        b"Huge," + b"x" * (10 * 1024 * 1024) + b",1980-01-04",  # a 10 MB field
        b"Good,Two,1980-01-05",
        b"\"Open,Quote,1980-01-06",             # the quote never closes: it would swallow the rest
        b"Good,Three,1980-01-07",
        b"Good,Four,1980-01-08",
    ]
    result = add_file_json(datalab, tmp_path, "authors", "authors.csv",
                           AUTHOR_HEADER.encode() + b"\n".join(rows) + b"\n")
    assert result.returncode == 4, result.stderr
    out = result.stdout
    assert "9 received, 4 inserted" in out, out[:3000]
    assert "first_name contains a NUL byte" in out
    assert "birth_date '0000-01-01' is not a date" in out
    assert "last_name is not valid UTF-8 (byte 0xff at offset 3" in out
    assert "malformed row, line 6: field 'last_name' is 10485760 bytes, more than the 1000 allowed" in out
    assert "malformed row, line 8: unterminated quote starting at line 8 (it ran over 2 more lines, 9–10, " \
           "to the end of the input; they are read as rows of their own)" in out
    assert psql.query("SELECT last_name FROM library.authors WHERE first_name = 'Good' ORDER BY birth_date") == \
        [["One"], ["Two"], ["Three"], ["Four"]]
    assert psql.scalar("SELECT count(*) FROM library.authors") == "104"


def test_a_stray_quote_closed_later_reports_the_lines_it_swallowed(datalab, psql, tmp_path):
    datalab.run("run", "library", "--no-demo")
    content = (AUTHOR_HEADER +
               "Good,One,1980-01-01\n"
               "\"Stray,Open,1980-01-02\n"       # line 3 opens a quote ...
               "Good,Two,1980-01-03\n"
               "Good,Three,1980-01-04\n"
               "Close\"d,Here,1980-01-05\n")      # ... that a quote on line 6 closes
    result = add_file_json(datalab, tmp_path, "authors", "authors.csv", content)
    assert result.returncode == 4, result.stderr
    assert "malformed row, line 3: unterminated quote starting at line 3 (it ran over 3 more lines, 4–6" \
        in result.stdout
    assert "5 received, 4 inserted" in result.stdout
    assert psql.query("SELECT first_name || ' ' || last_name FROM library.authors WHERE id > 100 ORDER BY id") == \
        [["Good One"], ["Good Two"], ["Good Three"], ['Close"d Here']]


def test_bad_json_values_reject_only_their_rows(datalab, psql, tmp_path):
    datalab.run("run", "library", "--no-demo")
    big = "y" * (10 * 1024 * 1024)
    content = ('[{"first_name": "Json", "last_name": "Good", "birth_date": "1970-01-01"},'
               ' {"first_name": {"a": 1}, "last_name": "Object", "birth_date": "1970-01-02"},'
               ' {"first_name": ["x"], "last_name": "Array", "birth_date": "1970-01-03"},'
               ' {"first_name": 12, "last_name": "Number", "birth_date": "1970-01-04"},'
               ' {"first_name": true, "last_name": "Bool", "birth_date": "1970-01-05"},'
               ' {"first_name": "Nul\\u0000", "last_name": "Escape", "birth_date": "1970-01-06"},'
               ' {"first_name": "Year", "last_name": "Zero", "birth_date": "0000-01-01"},'
               ' {"first_name": "' + big + '", "last_name": "Huge", "birth_date": "1970-01-07"},'
               ' "not an object",'
               ' {"first_name": "Bad", "last_name": "Utf@@8", "birth_date": "1970-01-09"},'
               ' {"first_name": "Json", "last_name": "Also Good", "birth_date": "1970-01-08"}]')
    result = add_file_json(datalab, tmp_path, "authors", "authors.json", content.encode().replace(b"@@", b"\xff\xfe"))
    assert result.returncode == 4, result.stderr
    out = result.stdout
    assert "11 received, 2 inserted" in out, out[:3000]
    assert "last_name is not valid UTF-8 (byte 0xff at offset 3: 'Utf\\xff\\xfe8')" in out
    assert "first_name must be a JSON string, not an object" in out
    assert "first_name must be a JSON string, not an array" in out
    assert "first_name must be a JSON string, not a number (12)" in out
    assert "first_name must be a JSON string, not a boolean (true)" in out
    assert "first_name contains a NUL byte" in out
    assert "birth_date '0000-01-01' is not a date" in out
    assert "field 'first_name' is 10485760 bytes, more than the 1000 allowed" in out
    assert "element 9 is a JSON string, not an object" in out
    assert psql.query("SELECT last_name FROM library.authors WHERE first_name = 'Json' ORDER BY id") == \
        [["Good"], ["Also Good"]]
    assert psql.scalar("SELECT count(*) FROM library.authors WHERE last_name IN "
                       "('Object', 'Array', 'Number', 'Bool', 'Escape', 'Zero', 'Huge')") == "0"
    # Numbers are fine where an integer belongs.
    ok = datalab.run("library", "add", "books", "--json",
                     '{"title": "Numbered", "author_id": 1, "isbn": "JSON-NUM-1", "publication_year": 2001,'
                     ' "genre": "Poetry", "copies_available": 1, "total_copies": 2}')
    assert "1 received, 1 inserted" in ok.stdout


def test_ids_beyond_int64_are_refused(datalab, psql):
    datalab.run("run", "library", "--no-demo")
    for command in (["delete-book"], ["update-reader", "--first-name", "A", "--last-name", "B"]):
        result = datalab.run("library", *command, "--id", "9223372036854775808", check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "--id 9223372036854775808 is out of range" in result.stderr
        assert "9223372036854775807 does not exist" not in result.stdout
    result = datalab.run("library", "add", "books", "--json",
                         '{"title": "Far", "author_id": 99999999999999999999, "isbn": "FAR-1",'
                         ' "publication_year": 2001, "genre": "Poetry", "copies_available": 1, "total_copies": 2}',
                         check=False)
    assert result.returncode == 4
    assert "author_id 99999999999999999999 is out of range" in result.stdout
    assert psql.scalar("SELECT count(*) FROM library.books WHERE isbn = 'FAR-1'") == "0"


def test_empty_and_header_only_files_say_so(datalab, tmp_path):
    datalab.run("run", "library", "--no-demo")
    header_only = add_file(datalab, tmp_path, "books", "header.csv",
                           "title,author_id,isbn,publication_year,genre,copies_available,total_copies\n")
    assert header_only.returncode == 1
    assert "has a header line but no rows" in header_only.stderr
    assert "give --file or --json" not in header_only.stderr
    empty = add_file(datalab, tmp_path, "books", "empty.csv", "")
    assert empty.returncode == 1
    assert "is empty" in empty.stderr and "Arrow" not in empty.stderr and "Invalid" not in empty.stderr


def test_a_large_file_is_added_in_batches_with_every_row_accounted_for(datalab, psql, tmp_path):
    datalab.run("run", "library", "--no-demo")
    n = 50_000
    lines = ["title,author_id,isbn,publication_year,genre,copies_available,total_copies"]
    bad = {}
    for i in range(1, n + 1):
        if i % 10 == 3:
            lines.append(f"Future {i},1,BIG-{i},2999,Poetry,1,2"); bad[i] = "publication_year 2999 is in the future"
        elif i % 10 == 6:
            lines.append(f"Orphan {i},424242,BIG-{i},2001,Poetry,1,2"); bad[i] = "author 424242 does not exist"
        elif i % 10 == 9:
            # Same ISBN as a row more than one batch (20 000 rows) earlier, when there is one.
            first = i - 25_001 if i > 25_001 else i - 1
            lines.append(f"Twin {i},2,BIG-{first},2002,Poetry,1,2"); bad[i] = f"duplicate ISBN 'BIG-{first}'"
        else:
            lines.append(f"Book {i},{1 + i % 100},BIG-{i},{1950 + i % 70},Poetry,1,2")
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    result = datalab.run("--format", "json", "library", "add", "books", "--file", str(tmp_path / "big.csv"), check=False)
    assert result.returncode == 4, result.stderr
    doc = json.loads(result.stdout)
    rejected = {r["row"]: r["reason"] for r in section(doc, "rejected books")["rows"]}
    assert len(rejected) == len(bad)
    for row, reason in bad.items():
        assert reason in rejected[row], (row, rejected[row])
    assert psql.scalar("SELECT count(*) FROM library.books WHERE isbn LIKE 'BIG-%'") == str(n - len(bad))
    # Each row went in with its own values (ids matched to the right input rows).
    assert psql.scalar("SELECT count(*) FROM library.books WHERE isbn LIKE 'BIG-%' "
                       "AND title <> 'Book ' || substr(isbn, 5)") == "0"


def test_concurrent_runs_are_serialised_and_the_demo_touches_only_its_rows(datalab, psql):
    import subprocess
    procs = [subprocess.Popen([datalab.binary, "run", "library"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    assert any("waiting for it to finish" in out for out, _ in outs), "the second run waited for the first"
    # No generated book was soft-deleted; the demo deleted exactly its own second book.
    assert psql.scalar("SELECT count(*) FROM library.books WHERE deleted_at IS NOT NULL AND id <= 10000") == "0"
    assert psql.query("SELECT isbn FROM library.books WHERE deleted_at IS NOT NULL") == [["ISBN-DEMO-2"]]
    assert psql.scalar("SELECT count(*) FROM library.books WHERE isbn LIKE 'ISBN-DEMO-%'") == "2"
    # The state is exactly the state of one run.
    concurrent = table_checksums(psql)
    datalab.run("run", "library")
    assert table_checksums(psql) == concurrent
