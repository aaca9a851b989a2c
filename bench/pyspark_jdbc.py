"""Shared by the PySpark baseline jobs (run with the spark-venv's python): the Spark Connect
session and the PostgreSQL JDBC target, from the same settings datalab reads."""
import os

from pyspark.sql import SparkSession


def connect():
    return SparkSession.builder.remote(os.environ.get("SPARK_CONNECT_URL", "sc://127.0.0.1:15002")).getOrCreate()


def jdbc_target(url_options=""):
    """(url, properties) of the local PostgreSQL for DataFrame.write.jdbc."""
    url = "jdbc:postgresql://{}:{}/{}{}".format(os.environ.get("DB_HOST", "127.0.0.1"),
                                                os.environ.get("DB_PORT", "10452"),
                                                os.environ.get("POSTGRES_DB", "it_one"), url_options)
    props = {"user": os.environ.get("POSTGRES_USER", "it_one"),
             "password": os.environ.get("POSTGRES_PASSWORD", ""),
             "driver": "org.postgresql.Driver"}
    return url, props
