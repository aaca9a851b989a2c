"""Shared by the benchmark scripts: run a command under GNU time (/usr/bin/time, Debian's
`time` package) and report its wall time and peak memory."""
import re
import subprocess
import sys
import time


def timed(cmd, env=None, cwd=None):
    """Runs cmd; returns (wall seconds, peak RSS MiB, stdout). Exits with its stderr on failure."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return wall, rss_kb / 1024, r.stdout
