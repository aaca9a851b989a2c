"""The original project's approach: the ADBC PostgreSQL driver fetches the whole products
table as one Arrow table, pyarrow writes it as Parquet to S3. Prints rows and seconds.

    adbc_baseline.py <bucket> <key>     (PostgreSQL and S3 settings from the environment)
"""
import os
import sys
import time

import adbc_driver_postgresql.dbapi as adbc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

bucket, key = sys.argv[1], sys.argv[2]
uri = "postgresql://{}:{}@{}:{}/{}".format(
    os.environ.get("POSTGRES_USER", "it_one"), os.environ.get("POSTGRES_PASSWORD", "it_one"),
    os.environ.get("DB_HOST", "127.0.0.1"), os.environ.get("DB_PORT", "10452"), os.environ.get("POSTGRES_DB", "it_one"))
scheme, _, host = os.environ["S3_ENDPOINT"].partition("://")
s3 = pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region=os.environ.get("S3_REGION", "us-east-1"))
start = time.perf_counter()
with adbc.connect(uri) as conn, conn.cursor() as cur:
    cur.execute("SELECT id, name, price, created_at FROM s3_upload.products")
    table = cur.fetch_arrow_table()
pq.write_table(table, f"{bucket}/{key}", filesystem=s3, compression="zstd")
price = table.schema.field("price").type
print(f"rows={table.num_rows} seconds={time.perf_counter() - start:.3f} "
      f"price_type={getattr(price, 'extension_name', None) or price}")
