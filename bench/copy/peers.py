"""The peers of bench/copy/run.py, one per process so that GNU time measures each alone:

    peers.py duckdb      BUCKET KEY TABLE   DuckDB postgres_scanner + httpfs: COPY (SELECT *) TO s3://
    peers.py connectorx  BUCKET KEY TABLE [PARTITIONS]   connectorx -> Arrow -> pyarrow write_table to S3
    peers.py polars      BUCKET KEY TABLE [PARTITIONS]   pl.read_database_uri (connectorx) -> write_parquet to S3
    peers.py put         BUCKET KEY FILE    one multipart upload of a local file (boto3 upload_file)
    peers.py pyiceberg   BUCKET CATALOG NS.NAME TABLE   connectorx -> Arrow -> pyiceberg create_table + append
                         (SQL catalog on the same PostgreSQL, table files under s3://BUCKET/pyiceberg/NS/NAME)

The PostgreSQL server is the local one (DB_HOST, DB_PORT, POSTGRES_DB/USER/PASSWORD, with the
services' defaults); S3 settings come from S3_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, S3_REGION. Prints `rows=N` where the approach knows it.
"""
import glob
import os
import sys

PG = dict(host=os.environ.get("DB_HOST", "127.0.0.1"), port=os.environ.get("DB_PORT", "10452"),
          db=os.environ.get("POSTGRES_DB", "it_one"), user=os.environ.get("POSTGRES_USER", "it_one"),
          password=os.environ.get("POSTGRES_PASSWORD", "it_one"))
PG_URI = "postgresql://{user}:{password}@{host}:{port}/{db}".format(**PG)
ENDPOINT = os.environ.get("S3_ENDPOINT", "")  # http://127.0.0.1:10456
KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")
SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
REGION = os.environ.get("S3_REGION", "us-east-1")


def extension(name):
    """The .duckdb_extension file that the PyPI package duckdb-extension-NAME ships."""
    import duckdb
    pkg = __import__(f"duckdb_extension_{name}")
    files = glob.glob(os.path.join(os.path.dirname(pkg.__file__), "extensions", f"v{duckdb.__version__}",
                                   f"{name}.duckdb_extension"))
    if not files:
        sys.exit(f"no {name}.duckdb_extension for duckdb {duckdb.__version__} in {pkg.__file__}")
    return files[0]


def duckdb_copy(bucket, key, table):
    import duckdb
    con = duckdb.connect()
    # Offline: never download an extension; load the files the wheels ship.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute(f"LOAD '{extension('postgres_scanner')}'")
    con.execute(f"LOAD '{extension('httpfs')}'")
    host = ENDPOINT.split("://", 1)[1]
    con.execute(f"""CREATE SECRET s3 (TYPE s3, KEY_ID '{KEY_ID}', SECRET '{SECRET}', ENDPOINT '{host}',
                    REGION '{REGION}', URL_STYLE 'path', USE_SSL {str(ENDPOINT.startswith('https')).lower()})""")
    con.execute("ATTACH 'host={host} port={port} dbname={db} user={user} password={password}' AS pg "
                "(TYPE postgres, READ_ONLY)".format(**PG))
    con.execute(f"COPY (SELECT * FROM pg.{table}) TO 's3://{bucket}/{key}' (FORMAT parquet)")
    print(f"duckdb={duckdb.__version__} threads={con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}")


def s3fs():
    from pyarrow import fs
    scheme, host = ENDPOINT.split("://", 1)
    return fs.S3FileSystem(access_key=KEY_ID, secret_key=SECRET, endpoint_override=host, scheme=scheme,
                           region=REGION)


def partitions(table, n):
    return dict(partition_on="id", partition_num=n) if n > 1 else {}


def connectorx_copy(bucket, key, table, n=1):
    import connectorx as cx
    import pyarrow.parquet as pq
    t = cx.read_sql(PG_URI, f"SELECT * FROM {table}", return_type="arrow", **partitions(table, n))
    pq.write_table(t, f"{bucket}/{key}", filesystem=s3fs())
    print(f"rows={t.num_rows} schema={t.schema.types}")


def polars_copy(bucket, key, table, n=1):
    import polars as pl
    df = pl.read_database_uri(f"SELECT * FROM {table}", PG_URI, engine="connectorx", **partitions(table, n))
    df.write_parquet(f"s3://{bucket}/{key}", storage_options={
        "aws_endpoint_url": ENDPOINT, "aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET,
        "aws_region": REGION, "aws_allow_http": "true", "aws_virtual_hosted_style_request": "false"})
    print(f"rows={df.height} schema={df.dtypes}")


def put(bucket, key, path):
    import boto3
    s3 = boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                      region_name=REGION)
    s3.upload_file(path, bucket, key)  # multipart above 8 MiB, 8 MiB parts, 10 threads (boto3 defaults)
    print(f"bytes={os.path.getsize(path)}")


def iceberg_catalog(name, env=None):
    """pyiceberg's SQL catalog on the local PostgreSQL with the warehouse on the local S3, as
    tests/e2e/test_s3_upload.py configures it (S3 settings from env, default: this process's)."""
    from pyiceberg.catalog import sql as sql_catalog
    e = os.environ if env is None else env
    return sql_catalog.SqlCatalog(name, **{
        "uri": "postgresql+psycopg2://{user}:{password}@{host}:{port}/{db}".format(**PG),
        "s3.endpoint": e["S3_ENDPOINT"], "s3.access-key-id": e["AWS_ACCESS_KEY_ID"],
        "s3.secret-access-key": e["AWS_SECRET_ACCESS_KEY"], "s3.region": e.get("S3_REGION", "us-east-1")})


def pyiceberg_copy(bucket, catalog, ident, table):
    import connectorx as cx
    t = cx.read_sql(PG_URI, f"SELECT * FROM {table}", return_type="arrow")
    cat = iceberg_catalog(catalog)
    ns, name = ident.split(".", 1)
    cat.create_namespace_if_not_exists(ns)
    it = cat.create_table(ident, schema=t.schema, location=f"s3://{bucket}/pyiceberg/{ns}/{name}")
    it.append(t)
    print(f"rows={t.num_rows} schema={t.schema.types}")


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what in ("connectorx", "polars") and len(args) > 3:
        args[3] = int(args[3])
    {"duckdb": duckdb_copy, "connectorx": connectorx_copy, "polars": polars_copy, "put": put,
     "pyiceberg": pyiceberg_copy}[what](*args)
