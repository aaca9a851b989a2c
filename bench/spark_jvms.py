"""Shared by the benchmark scripts that run work on the local Spark cluster: the memory of the
Spark Connect server (driver) and executor JVMs, sampled from /proc while a run goes on."""
import os
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPARK_STATE = os.path.join(ROOT, ".state", "spark")


def rss_mib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def spark_jvms():
    """{'driver': pid, 'executor': [pids]}: the Spark Connect server and its executors."""
    out = {"driver": None, "executor": []}
    try:
        out["driver"] = int(open(os.path.join(SPARK_STATE, "connect.pid")).read().strip())
    except (OSError, ValueError):
        pass
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            if b"CoarseGrainedExecutorBackend" in cmd:
                out["executor"].append(int(d))
            elif out["driver"] is None and b"SparkConnectServer" in cmd and b"java" in cmd:
                out["driver"] = int(d)
    return out


class JvmSampler(threading.Thread):
    """RSS of the Spark JVMs every `interval` seconds: `before` (at creation) and `peak`."""

    def __init__(self, interval=0.2):
        super().__init__(daemon=True)
        self.interval, self.stop_flag = interval, threading.Event()
        self.jvms = spark_jvms()
        self.before = self.sample()
        self.peak = dict(self.before)

    def sample(self):
        return {"driver": rss_mib(self.jvms["driver"]) if self.jvms["driver"] else 0.0,
                "executor": sum(rss_mib(p) for p in self.jvms["executor"])}

    def run(self):
        while not self.stop_flag.is_set():
            s = self.sample()
            for k in s:
                self.peak[k] = max(self.peak[k], s[k])
            time.sleep(self.interval)

    def stop(self):
        self.stop_flag.set()
        self.join()
