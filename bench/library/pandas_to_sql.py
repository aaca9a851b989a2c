"""Baseline (a): the original project's loading approach, pandas DataFrame.to_sql with
method='multi', chunksize=100 through SQLAlchemy/psycopg2, into the same library tables."""
import os
import random
import sys
import time

import pandas as pd
from sqlalchemy import create_engine

GENRES = ["Fiction", "Mystery", "Science Fiction", "Fantasy", "Romance", "Thriller", "Biography", "History",
          "Poetry", "Non-fiction"]


def main(authors: int, books: int) -> None:
    url = "postgresql+psycopg2://{u}:{p}@{h}:{port}/{db}".format(
        u=os.environ.get("POSTGRES_USER", "it_one"), p=os.environ.get("POSTGRES_PASSWORD", "it_one"),
        h=os.environ.get("DB_HOST", "127.0.0.1"), port=os.environ.get("DB_PORT", "10452"),
        db=os.environ.get("POSTGRES_DB", "it_one"))
    engine = create_engine(url)
    rng = random.Random(42)
    start = time.perf_counter()
    authors_df = pd.DataFrame({
        "id": range(1, authors + 1),
        "first_name": [f"First{i % 100}" for i in range(authors)],
        "last_name": [f"Last{i // 100 % 100}" for i in range(authors)],
        "birth_date": [pd.Timestamp("1900-01-01") + pd.Timedelta(days=i // 10000) for i in range(authors)],
    })
    books_df = pd.DataFrame({
        "id": range(1, books + 1),
        "title": [f"The Title of Book Number {i} in the Series" for i in range(1, books + 1)],
        "author_id": [rng.randint(1, authors) for _ in range(books)],
        "isbn": [f"ISBN-{i}" for i in range(1, books + 1)],
        "publication_year": [rng.randint(1950, 2023) for _ in range(books)],
        "genre": [rng.choice(GENRES) for _ in range(books)],
        "copies_available": [1] * books,
        "total_copies": [rng.randint(1, 10) for _ in range(books)],
    })
    generated = time.perf_counter()
    authors_df.to_sql("authors", engine, schema="library", if_exists="append", index=False, method="multi",
                      chunksize=100)
    books_df.to_sql("books", engine, schema="library", if_exists="append", index=False, method="multi",
                    chunksize=100)
    done = time.perf_counter()
    print(f"generate_seconds={generated - start:.3f} load_seconds={done - generated:.3f} rows={authors + books}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
