"""Where a chainrule training step spends its time, for the people making it faster.

python -m benchmarks.profile_step --job a [--steps 2000] [--cprofile 25]

Prints, for one job: the median time of each phase of the step (zero_grad,
forward, loss, backward, optimizer step) beside the hand-written NumPy bound's
forward and backward; the Python function calls per step (a count, so it does
not move with the machine's load); and, with ``--cprofile N``, cProfile's top N
functions by own time.  For a sampling view use py-spy:
``py-spy record --native -o prof.svg -- python -m benchmarks.profile_step --job c``.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import statistics
import sys
import time

from . import common


def _phases(model, nxt, steps: int) -> dict:
    m, crit, opt = model.model, model.crit, model.opt
    pc = time.perf_counter
    names = ("zero_grad", "forward", "loss", "backward", "optimizer step", "whole step")
    ts: dict = {k: [] for k in names}
    for i in range(steps + 20):
        x, y = nxt()
        t0 = pc()
        opt.zero_grad()
        t1 = pc()
        out = m(x)
        t2 = pc()
        loss = crit(out, y)
        t3 = pc()
        loss.backward()
        t4 = pc()
        opt.step()
        t5 = pc()
        if i >= 20:
            for k, a, b in zip(names, (t0, t1, t2, t3, t4, t0), (t1, t2, t3, t4, t5, t5)):
                ts[k].append(b - a)
    return {k: statistics.median(v) * 1e6 for k, v in ts.items()}


def _bound(job: str, steps: int) -> dict:
    from .worker import build

    model, cfg = build("numpy", job)
    xs, ys = common.make_data(cfg.sizes, cfg.batch)
    nxt = itertools.cycle(list(zip(xs, ys))).__next__
    f, _, _ = common.time_steps(lambda: model.fwd(*nxt()), min_steps=steps, min_time=0.2)
    fb, _, _ = common.time_steps(lambda: model.fwdbwd(*nxt()), min_steps=steps, min_time=0.2)
    s, _, _ = common.time_steps(lambda: model.step(*nxt()), min_steps=steps, min_time=0.2)
    return {"forward + loss": f * 1e6, "backward": (fb - f) * 1e6, "update": (s - fb) * 1e6, "whole step": s * 1e6}


def _calls(model, batch, n: int = 10) -> collections.Counter:
    cnt: collections.Counter = collections.Counter()

    def prof(frame, event, arg):
        if event == "call":
            cnt[f"{frame.f_code.co_name} ({frame.f_code.co_filename.rsplit('/', 2)[-1]})"] += 1

    sys.setprofile(prof)
    for _ in range(n):
        model.step(*batch)
    sys.setprofile(None)
    return collections.Counter({k: v / n for k, v in cnt.items()})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n")[0])
    p.add_argument("--job", default="a")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="timed steps (default: about 2 s worth)")
    p.add_argument("--cprofile", type=int, default=0, metavar="N", help="also print cProfile's top N functions")
    args = p.parse_args(argv)
    common.pin_threads(args.threads)
    from .worker import build

    model, cfg = build("chainrule", args.job, args.threads)
    xs, ys = common.make_data(cfg.sizes, cfg.batch)
    batches = [model.batch(x, y) for x, y in zip(xs, ys)]
    nxt = itertools.cycle(batches).__next__
    t0 = time.perf_counter()
    for _ in range(5):
        model.step(*nxt())
    steps = args.steps or max(20, min(3000, int(2.0 / ((time.perf_counter() - t0) / 5))))

    ph = _phases(model, nxt, steps)
    bd = _bound(args.job, max(10, steps // 4))
    print(f"job {args.job} ({cfg.label}, batch {cfg.batch}), median us over {steps} steps, threads={args.threads}")
    print(common.fmt_table(["chainrule phase", "us"], [[k, f"{v:.1f}"] for k, v in ph.items()]))
    print(common.fmt_table(["numpy bound", "us"], [[k, f"{v:.1f}"] for k, v in bd.items()]))

    calls = _calls(model, batches[0])
    print(f"\nPython function calls per step: {sum(calls.values()):.0f}")
    for k, v in calls.most_common(15):
        print(f"  {v:6.1f}  {k}")

    if args.cprofile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for _ in range(steps):
            model.step(*nxt())
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
