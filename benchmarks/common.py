"""Configs, thread pinning, timing and data shared by every benchmark process.

Nothing here imports NumPy at module level: a worker must pin the thread count
of every BLAS/OpenMP runtime (``pin_threads``) before NumPy or torch loads.
The configs and the timing method follow ``../shared/anchors/_common.py``, so
the figures are comparable with the anchor measurements.
"""
from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Unset together for every worker process (and said so in the output): an OpenBLAS core type or L2
# size forced by the environment would give NumPy-based workers different kernels than torch's.
UNSET_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

LR = 0.01
MOMENTUM = 0.9
ADAM_LR = 1e-3
N_BATCHES = 8  # distinct random batches cycled through


@dataclass(frozen=True)
class Config:
    sizes: tuple
    act: str
    batch: int

    @property
    def label(self) -> str:
        return "-".join(map(str, self.sizes)) + " " + self.act

    @property
    def params(self) -> int:
        return sum(i * o + o for i, o in zip(self.sizes[:-1], self.sizes[1:]))


CONFIGS = {
    "a": Config((64, 32, 10), "sigmoid", 32),
    "b": Config((784, 128, 10), "relu", 64),
    "c": Config((784, 256, 256, 10), "relu", 128),
    "d": Config((784, 1024, 1024, 10), "relu", 256),
    "e": Config((784, 2048, 2048, 2048, 10), "relu", 512),
}
JOBS = ("a", "b", "c", "c-adam", "d", "e")  # a job is a config, "-adam" for Adam instead of SGD+momentum
QUICK_JOBS = ("a", "b", "c")

# issue 5's targets: speed-up over PyTorch per step, and the NumPy bound for the large configs
SPEEDUP_TARGET = {"a": 3.0, "b": 1.5, "c": 1.1, "c-adam": 1.4, "d": 1.0, "e": 1.05}
BOUND_TARGET = {"c": 1.1, "d": 1.1, "e": 1.1}
CHAIN_TARGET_US = 35.0
BWD_FWD_TARGET = 2.0
IMPORT_TARGET_S = 0.15
# figures measured by ../shared/anchors (1 thread, ms/step): PyTorch, MyGrad, hand-written NumPy
ANCHOR_MS = {"a": (0.247, 0.152, 0.044), "b": (0.61, 0.50, 0.36), "c": (2.42, 2.33, 2.0),
             "c-adam": (3.6, None, 2.2), "d": (31.5, 29.5, 28.4), "e": (335.0, 317.0, 308.0)}


def split_job(job: str) -> tuple[Config, str]:
    """``"c-adam"`` -> (config c, "adam"); ``"c"`` -> (config c, "sgd")."""
    name, _, opt = job.partition("-")
    if name not in CONFIGS or opt not in ("", "sgd", "adam"):
        raise ValueError(f"unknown benchmark job {job!r}: choose from {', '.join(JOBS)}")
    return CONFIGS[name], opt or "sgd"


def pin_threads(n: int) -> None:
    """Pin BLAS/OpenMP threads through the environment; call before NumPy is imported."""
    if "numpy" in sys.modules:
        raise RuntimeError("pin_threads must run before numpy is imported")
    for v in THREAD_VARS:
        os.environ[v] = str(n)


def worker_env(threads: int) -> dict:
    """The environment of a worker process: pinned threads, forced OpenBLAS tuning removed."""
    env = dict(os.environ)
    for v in UNSET_VARS:
        env.pop(v, None)
    for v in THREAD_VARS:
        env[v] = str(threads)
    paths = [str(REPO)] + ([str(REPO / "src")] if (REPO / "src" / "chainrule").is_dir() else [])
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def time_steps(step, min_steps: int = 50, min_time: float = 1.0, max_steps: int = 3000,
               warmup: int = 10) -> tuple[float, float, int]:
    """Time ``step()`` call by call; (median wall seconds, median CPU seconds, number of calls).

    The CPU time of the process leaves out the time other processes held the
    core, so it stays honest on a shared machine where the wall clock does not.
    """
    for _ in range(warmup):
        step()
    wall: list[float] = []
    cpu: list[float] = []
    perf, ptime = time.perf_counter, time.process_time
    t_start = perf()
    while len(wall) < max_steps:
        t0, c0 = perf(), ptime()
        step()
        c1, t1 = ptime(), perf()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
        if len(wall) >= min_steps and t1 - t_start >= min_time:
            break
    return statistics.median(wall), statistics.median(cpu), len(wall)


def time_calls(fn, min_time: float = 0.25, repeats: int = 7, warmup: int = 2, best: bool = False) -> float:
    """Median (or with ``best``, minimum) seconds per call of a fast ``fn()``, with a calibrated inner loop."""
    for _ in range(warmup):
        fn()
    n = 1
    perf = time.perf_counter
    target = min_time / repeats
    while True:
        t0 = perf()
        for _ in range(n):
            fn()
        dt = perf() - t0
        if dt >= target or n >= 1 << 22:
            break
        n = n * 16 if dt <= 0 else max(n * 2, int(n * target / dt * 1.1) + 1)
    res = []
    for _ in range(repeats):
        t0 = perf()
        for _ in range(n):
            fn()
        res.append((perf() - t0) / n)
    return min(res) if best else statistics.median(res)


class GcTimer:
    """Time spent in Python's cyclic collector while active (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._t0 = 0.0

    def _cb(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.collections += 1

    def __enter__(self) -> "GcTimer":
        gc.callbacks.append(self._cb)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._cb)


def init_weights(sizes, seed: int = 0) -> list:
    """PyTorch's nn.Linear default init, U(-1/sqrt(in), 1/sqrt(in)); weight (out, in) as PyTorch."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        k = 1.0 / np.sqrt(fi)
        out.append((rng.uniform(-k, k, (fo, fi)).astype(np.float32),
                    rng.uniform(-k, k, fo).astype(np.float32)))
    return out


def make_data(sizes, batch: int, seed: int = 1) -> tuple[list, list]:
    """N_BATCHES random float32 inputs and int64 class labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((batch, sizes[0]), dtype=np.float32) for _ in range(N_BATCHES)]
    ys = [rng.integers(0, sizes[-1], batch).astype(np.int64) for _ in range(N_BATCHES)]
    return xs, ys


def fmt_table(header: list, rows: list) -> str:
    cols = list(zip(*([header] + [[str(c) for c in r] for r in rows])))
    widths = [max(len(c) for c in col) for col in cols]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def env_report() -> str:
    """Versions and the thread pools actually loaded (call after importing the framework)."""
    import platform

    import numpy as np

    lines = [f"python {platform.python_version()}  numpy {np.__version__}  "
             + "  ".join(f"{v}={os.environ.get(v, '<unset>')}" for v in THREAD_VARS + UNSET_VARS)]
    try:
        import threadpoolctl

        for i in threadpoolctl.threadpool_info():
            lines.append(f"  pool: {i.get('internal_api')} {i.get('version')} arch={i.get('architecture')} "
                         f"threads={i.get('num_threads')}")
    except ImportError:
        lines.append("  (threadpoolctl not installed: thread pools not listed)")
    return "\n".join(lines)
