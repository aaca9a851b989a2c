"""The service scripts and datalab read the same settings the same way: services/lib.sh's
.env parser gives the same keys and values as datalab's (src/core/config.cpp), the scripts
take S3_REGION like datalab, and their defaults are datalab's. No services needed."""
import json
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "services", "lib.sh")

# Every rule of the syntax, and the corner cases where a naive parser differs.
TRICKY_ENV = (
    "# a comment\n"
    "\n"
    "   \t \n"
    "export DB_HOST=db.example\n"
    "  export   POSTGRES_DB = \"two words\"  \n"
    "POSTGRES_USER='x#y'\n"
    "DB_PORT=5433 # the port\n"
    "S3_REGION=eu-central-1\r\n"
    "S3_BUCKET=\n"
    "S3_NAMESPACE=\"unbalanced\n"
    "S3_TABLE=\"quoted\" # then a comment\n"
    "S3_CATALOG=a#b\n"
    "SPARK_BUCKET= spaced value\t \n"
    "DELIVERY_BUCKET='\"nested\"'\n"
    "BOOTSTRAP_SERVER=host:9092=x\n"
    "TG_CHAT_ID=\"\"\n"
    "TG_API_URL=\"\n"
    "_EXTRA_9=1\n"
    "export\tSPARK_MASTER_URL=tab-is-not-export\n"  # a key with a tab in it: malformed
)


def clean_env(tmp_path):
    """An environment without any datalab setting, so only the file speaks."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
            "DATALAB_STATE": str(tmp_path / "state"), "DATALAB_CACHE": str(tmp_path / "cache")}


def datalab_pairs(binary, env_file, env, cwd):
    result = subprocess.run([binary, "--env-file", str(env_file), "--format", "json", "config"],
                            capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    return result, ({row["setting"]: row["value"] for row in json.loads(result.stdout)[0]["rows"]
                     if row["source"] == ".env file"} if result.returncode == 0 else None)


def bash(script, env, *args):
    return subprocess.run(["bash", "-c", f'source "{LIB}"\n{script}', "bash", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def lib_pairs(env_file, env):
    result = bash('emit() { printf "%s\\0%s\\0" "$1" "$2"; }; parse_env_file "$1" emit', env, str(env_file))
    fields = result.stdout.split("\0")[:-1]
    return result, dict(zip(fields[0::2], fields[1::2]))


@pytest.fixture()
def binary(datalab):
    return datalab.binary


def test_lib_sh_parses_env_files_exactly_like_datalab(binary, tmp_path):
    good = "".join(TRICKY_ENV.splitlines(keepends=True)[:-1]) + "LAST_LINE=last line without newline"
    env_file = tmp_path / "tricky.env"
    env_file.write_text(good)
    env = clean_env(tmp_path)
    result, from_datalab = datalab_pairs(binary, env_file, env, tmp_path)
    assert result.returncode == 0, result.stderr
    shell, from_lib = lib_pairs(env_file, env)
    assert shell.returncode == 0, shell.stderr
    assert from_lib == from_datalab
    # The cases that matter, spelled out (an `export` line is a setting, not skipped).
    assert from_lib["DB_HOST"] == "db.example"
    assert from_lib["POSTGRES_DB"] == "two words"
    assert from_lib["POSTGRES_USER"] == "x#y"
    assert from_lib["DB_PORT"] == "5433"
    assert from_lib["S3_REGION"] == "eu-central-1"
    assert from_lib["S3_NAMESPACE"] == '"unbalanced'
    assert from_lib["S3_TABLE"] == '"quoted"'
    assert from_lib["SPARK_BUCKET"] == "spaced value"
    assert from_lib["DELIVERY_BUCKET"] == '"nested"'
    assert from_lib["BOOTSTRAP_SERVER"] == "host:9092=x"
    assert from_lib["TG_CHAT_ID"] == "" and from_lib["S3_BUCKET"] == ""
    assert from_lib["LAST_LINE"] == "last line without newline"
    assert len(from_lib) == 16


@pytest.mark.parametrize("bad_line", ["export\tSPARK_MASTER_URL=x", "not a setting", "1ST=x", "=value",
                                      "export =1", "A-B=1"])
def test_a_malformed_line_is_an_error_naming_file_and_line_on_both_sides(binary, tmp_path, bad_line):
    env_file = tmp_path / "bad.env"
    env_file.write_text(f"# fine\nDB_HOST=x\n{bad_line}\nDB_PORT=1\n")
    env = clean_env(tmp_path)
    result, _ = datalab_pairs(binary, env_file, env, tmp_path)
    assert result.returncode == 2
    assert f"{env_file}:3:" in result.stderr
    shell, _ = lib_pairs(env_file, env)
    assert shell.returncode != 0
    assert f"{env_file}:3:" in shell.stderr
    # The same message: both name what the line starts with.
    message = re.search(r":3: (.*)$", result.stderr, re.M).group(1)
    assert message in shell.stderr


def test_load_settings_takes_export_lines_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("export POSTGRES_USER=from_file\nexport DB_PORT=5433\nDB_HOST = file-host # c\n")
    env = dict(clean_env(tmp_path), DB_PORT="6543")
    result = bash('load_settings "$1"; printf "%s|%s|%s" "$POSTGRES_USER" "$DB_PORT" "$DB_HOST"', env,
                  str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from_file|6543|file-host"


@pytest.mark.parametrize("env_vars,env_file_text,expected", [
    ({}, "", "us-east-1"),
    ({}, "S3_REGION=eu-west-3\n", "eu-west-3"),                            # .env reaches the scripts
    ({"AWS_REGION": "ap-south-1"}, "export S3_REGION=eu-west-3\n", "eu-west-3"),  # S3_REGION wins
    ({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x"}, "", "ap-south-1"),  # stand-in when unset
    ({"AWS_DEFAULT_REGION": "sa-east-1"}, "", "sa-east-1"),
    ({"S3_REGION": "", "AWS_REGION": "ap-south-1"}, "", "us-east-1"),       # empty: the default, as datalab
])
def test_scripts_take_the_region_datalab_takes(tmp_path, env_vars, env_file_text, expected):
    env_file = tmp_path / ".env"
    env_file.write_text(env_file_text)
    env = dict(clean_env(tmp_path), **env_vars)
    result = bash('load_settings "$1"; s3_region', env, str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


# Defaults a service script may choose differently: it starts the S3 server datalab then
# talks to (without S3_ENDPOINT datalab uses a local folder instead).
OWN_SERVICE_DEFAULTS = {"S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_service_scripts_use_datalabs_names_and_defaults(binary, tmp_path):
    result = subprocess.run([binary, "--format", "json", "config"], capture_output=True, text=True,
                            env=clean_env(tmp_path), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    defaults = {row["setting"]: row["value"] for row in json.loads(result.stdout)[0]["rows"]}
    scripts = sorted(f for f in os.listdir(os.path.join(ROOT, "services")) if f.endswith(".sh") and f != "lib.sh")
    assert scripts
    checked = 0
    for name in scripts:
        text = open(os.path.join(ROOT, "services", name)).read()
        # Every script that reads a setting reads it through lib.sh's parser.
        if re.search(r"\$\{(%s)\b" % "|".join(defaults), text):
            assert re.search(r"^load_settings$", text, re.M), f"{name} reads settings without load_settings"
        # The region is S3_REGION (lib.sh's s3_region), never AWS_REGION read directly.
        assert not re.search(r"\$\{?AWS_(DEFAULT_)?REGION", text), f"{name} reads AWS_REGION"
        for key, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*):-([^}$]*)\}", text):
            if key in defaults and key not in OWN_SERVICE_DEFAULTS and defaults[key] != "********":  # secrets: masked
                assert default == defaults[key], f"{name}: {key} defaults to {default!r}, datalab to {defaults[key]!r}"
                checked += 1
    assert checked >= 8  # PostgreSQL, ClickHouse, Kafka, Spark settings at least
