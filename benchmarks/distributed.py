"""``python -m benchmarks.distributed``: data-parallel training speed on config d, ranks x threads.

Runs config d (784-1024-1024-10 relu, global batch 256, SGD with momentum)
as 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks x 1 thread (mpiexec,
DistributedDataParallel, each rank 128 examples of every batch), with the
gradient reduction blocking after backward and overlapped with it
(Iallreduce started from the gradient hooks).  Reported per variant, as
medians over alternating repeats: samples/s, the ratio to 1 x 1, the time
per step inside MPI reductions and its share of the step, and for the
overlapped variants the share of the blocking variant's reduction time that
no longer shows in the step (hidden behind backward).

    python -m benchmarks.distributed [--repeats 5] [--seconds 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from .common import CONFIGS, LR, MOMENTUM, fmt_table, make_data, pin_threads, worker_env

CONFIG = "d"
# (name, ranks, threads per rank, DDP overlap, environment): MPICH's async progress thread is the one way
# MPICH advances a non-blocking collective while the rank computes (it needs a spare core)
VARIANTS = (
    ("1 rank x 1 thread", 1, 1, None, {}),
    ("1 rank x 2 threads", 1, 2, None, {}),
    ("2 ranks x 1 thread, blocking", 2, 1, False, {}),
    ("2 ranks x 1 thread, overlap", 2, 1, True, {}),
    ("2 ranks x 1 thread, overlap + progress thread", 2, 1, True, {"MPIR_CVAR_ASYNC_PROGRESS": "1"}),
)


def worker(threads: int, overlap: bool | None, seconds: float) -> dict:
    """Time training steps in this process (one rank of the job when ``overlap`` is not None)."""
    pin_threads(threads)
    import time

    import numpy as np

    import chainrule as cr

    cfg = CONFIGS[CONFIG]
    nn = cr.nn
    rank, size, dist = 0, 1, None
    if overlap is not None:
        from chainrule import distributed as dist

        dist.init()
        rank, size = dist.rank(), dist.world_size()
    cr.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(cfg.sizes[:-1], cfg.sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(cfg.sizes) - 2 else [])
    model = nn.Sequential(*layers)
    net = model if dist is None else dist.DistributedDataParallel(model, overlap=overlap)
    opt = cr.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    crit = nn.CrossEntropyLoss()
    xs, ys = make_data(cfg.sizes, cfg.batch // size, seed=1 + rank)
    batches = [(cr.tensor(x), cr.tensor(y)) for x, y in zip(xs, ys)]

    def step(i: int) -> None:
        x, y = batches[i % len(batches)]
        opt.zero_grad()
        crit(net(x), y).backward()
        opt.step()

    for i in range(10):
        step(i)
    if dist is not None:
        dist.barrier()
    walls, comms, copies = [], [], []
    start = time.perf_counter()
    i = 0
    while True:
        before = dict(net.timings) if dist is not None else {}
        t0 = time.perf_counter()
        step(i)
        walls.append(time.perf_counter() - t0)
        if dist is not None:
            comms.append(net.timings["comm"] - before["comm"])
            copies.append(net.timings["copy"] - before["copy"])
        i += 1
        if i % 10:
            continue
        more = i < 30 or time.perf_counter() - start < seconds
        if dist is not None:  # every rank runs the same number of steps
            more = bool(dist.all_reduce_(np.array([more], np.int64), "max")[0])
        if not more:
            break
    out = {"step_s": statistics.median(walls), "step_min_s": min(walls), "steps": len(walls)}
    if dist is not None:
        out["comm_s"] = statistics.median(comms)
        out["copy_s"] = statistics.median(copies)
        buf = np.zeros(sum(b.flat.size for b in net.buckets), np.float32)
        alone = []
        for _ in range(20):  # the same bytes reduced with nothing else running: the cost overlap can hide
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce_(buf)
            alone.append(time.perf_counter() - t0)
        out["allreduce_alone_s"] = statistics.median(alone)
        out["allreduce_alone_min_s"] = min(alone)  # the least contended: close to an idle machine's
        out["gradient_bytes"] = int(buf.nbytes)
        out["buckets"] = len(net.buckets)
        slowest = dist.all_reduce_(np.array([out["step_s"]]), "max")[0]
        out["step_s"] = float(slowest)  # the job goes at its slowest rank's pace
    out["samples_per_s"] = cfg.batch / out["step_s"]
    return out


def run_variant(ranks: int, threads: int, overlap, extra_env: dict, seconds: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.distributed", "--worker", str(threads), str(overlap), str(seconds)]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
        if mpiexec is None:
            raise SystemExit('benchmarks.distributed: no mpiexec; pip install "chainrule[mpi]"')
        cmd = [mpiexec, "-n", str(ranks)] + cmd
    env = dict(worker_env(threads), **extra_env)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"benchmarks.distributed: a worker failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[0][len("RESULT "):])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="alternating rounds over the variants (default 5)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per variant and round (default 3)")
    p.add_argument("--json", metavar="FILE", help="write every measurement here")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        threads, overlap, seconds = args.worker
        result = worker(int(threads), None if overlap == "None" else overlap == "True", float(seconds))
        if os.environ.get("PMI_RANK", "0") == "0":
            print("RESULT " + json.dumps(result), flush=True)
        return 0

    runs: dict = {name: [] for name, *_ in VARIANTS}
    loads = []
    for _ in range(args.repeats):
        for name, ranks, threads, overlap, extra in VARIANTS:
            runs[name].append(run_variant(ranks, threads, overlap, extra, args.seconds))
            loads.append(os.getloadavg()[0])
    print(report(runs, loads))
    if args.json:
        Path(args.json).write_text(json.dumps({"config": CONFIG, "runs": runs, "load_averages": loads}, indent=1))
    return 0


def med(rows: list, key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(runs: dict, loads: list) -> str:
    base = med(runs[VARIANTS[0][0]], "samples_per_s")
    blocking = runs["2 ranks x 1 thread, blocking"]
    rows = []
    for name, ranks, *_ in VARIANTS:
        rs = runs[name]
        sps, step = med(rs, "samples_per_s"), med(rs, "step_s")
        row = [name, f"{sps:,.0f}", f"{sps / base:.2f}", f"{1e3 * step:.2f}"]
        if ranks > 1:
            comm, exposed_blocking = med(rs, "comm_s"), med(blocking, "comm_s")
            hidden = "" if "overlap" not in name else f"{100 * max(0.0, 1 - comm / exposed_blocking):.0f}%"
            row += [f"{1e3 * comm:.2f}", f"{100 * comm / step:.1f}%", f"{1e3 * med(rs, 'copy_s'):.2f}", hidden]
        else:
            row += ["", "", "", ""]
        rows.append(row)
    mb = blocking[0]["gradient_bytes"] / 2**20
    alone = med(blocking, "allreduce_alone_s")
    lines = [
        f"config {CONFIG} {CONFIGS[CONFIG].label}, global batch {CONFIGS[CONFIG].batch}, SGD momentum; "
        f"medians of {len(blocking)} alternating rounds; load average during the run "
        f"{min(loads):.1f}..{max(loads):.1f} on {os.cpu_count()} cores (other processes share them: the wall "
        "clock is noisy)",
        fmt_table(["variant", "samples/s", "x 1x1", "ms/step", "comm ms", "comm share", "copy ms",
                   "reduction hidden"], rows),
        f"gradients {mb:.2f} MiB in {blocking[0]['buckets']} buckets; one all-reduce of them alone "
        f"{1e3 * alone:.2f} ms median, {1e3 * med(blocking, 'allreduce_alone_min_s'):.2f} ms least contended "
        f"({mb / 2**10 / alone:.2f} GiB/s of gradient; a ring moves 2(N-1)/N = 1x the bytes per rank at N = 2)",
        "least contended step (min): " + ", ".join(f"{name} {1e3 * med(runs[name], 'step_min_s'):.1f} ms"
                                                   for name, *_ in VARIANTS),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
