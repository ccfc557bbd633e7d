"""The driver of ``python -m benchmarks``: run every worker, alternating, then report.

For each job, each round runs one process per framework (the order rotates
from round to round), so slow drifts of a shared machine hit every framework
alike.  The report is a table of medians, the ratios issue 5 sets targets on,
and whether each target is met.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from . import common, options, overhead

RATIO_COLUMNS = (("torch", "torch/cr"), ("mygrad", "mygrad/cr"))


def _parse_list(text: str | None, allowed, what: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad:
        raise SystemExit(f"benchmarks: unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return items


def machine() -> str:
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def run_job(framework: str, job: str, threads: int, quick: bool) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.worker", "--framework", framework, "--job", job,
           "--threads", str(threads)] + (["--quick"] if quick else [])
    p = subprocess.run(cmd, capture_output=True, text=True, env=common.worker_env(threads), cwd=common.REPO)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    err = (p.stderr.strip().splitlines() or ["no output"])[-1]
    return dict(framework=framework, job=job, error=err)


def import_time(threads: int, n: int = 5) -> dict:
    """Seconds of ``import chainrule`` in fresh processes: wall and CPU clocks, NumPy included and not."""
    code = ("import time, json; w0, c0 = time.perf_counter(), time.process_time(); import numpy; "
            "w1, c1 = time.perf_counter(), time.process_time(); import chainrule; "
            "w2, c2 = time.perf_counter(), time.process_time(); "
            "print(json.dumps([w2 - w0, w2 - w1, c2 - c0, c2 - c1]))")
    runs = []
    for _ in range(n):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=common.worker_env(threads), cwd=common.REPO)
        if p.returncode == 0:
            runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    if not runs:
        return {}
    med = [statistics.median(r[i] for r in runs) for i in range(4)]
    return dict(total_s=med[0], own_s=med[1], total_cpu_s=med[2], own_cpu_s=med[3])


def summarize(rs: list[dict], clock: str = "wall") -> dict | None:
    """Medians over one framework's processes for one job, by the wall clock or the CPU clock."""
    ok = [r for r in rs if "step_ms" in r]
    if not ok:
        return None
    sfx = "_cpu_ms" if clock == "cpu" else "_ms"
    med = lambda k: statistics.median(r[k + sfx] for r in ok)  # noqa: E731
    fwd, fb = med("fwd"), med("fwdbwd")
    return dict(step_ms=med("step"), step_rounds=[r["step" + sfx] for r in ok], fwd_ms=fwd, fwdbwd_ms=fb,
                bwd_fwd=(fb - fwd) / fwd, peak_rss_mb=max(r["peak_rss_mb"] for r in ok),
                gc_ms_per_step=statistics.median(r["gc_ms_per_step"] for r in ok),
                gc_collections_per_step=statistics.median(r["gc_collections_per_step"] for r in ok))


def targets(job: str, s: dict) -> list[tuple[str, float, float, bool]]:
    """(what, measured, target, met) for one job's summaries; only what was measured."""
    out = []
    cr = s.get("chainrule")
    if not cr:
        return out
    if s.get("torch") and job in common.SPEEDUP_TARGET:
        v = s["torch"]["step_ms"] / cr["step_ms"]
        out.append(("speed-up over torch", v, common.SPEEDUP_TARGET[job], v >= common.SPEEDUP_TARGET[job]))
    if s.get("mygrad"):
        v = s["mygrad"]["step_ms"] / cr["step_ms"]
        out.append(("speed-up over mygrad", v, 1.0, v >= 1.0))
    if s.get("numpy") and job in common.BOUND_TARGET:
        v = cr["step_ms"] / s["numpy"]["step_ms"]
        out.append(("time / numpy bound", v, common.BOUND_TARGET[job], v <= common.BOUND_TARGET[job]))
    out.append(("backward/forward", cr["bwd_fwd"], common.BWD_FWD_TARGET, cr["bwd_fwd"] <= common.BWD_FWD_TARGET))
    if job == "e" and s.get("numpy"):
        v = cr["peak_rss_mb"] / s["numpy"]["peak_rss_mb"]
        out.append(("peak RSS / numpy bound", v, 1.3, v <= 1.3))
    return out


def _f(x, fmt=".3g") -> str:
    return "-" if x is None else format(x, fmt)


def report(results: dict, frameworks: list[str], clock: str = "wall") -> str:
    """The main table (medians), then the targets."""
    rows = []
    for job, s in results.items():
        cfg, _ = common.split_job(job)
        g = lambda fw, k, s=s: s[fw][k] if s.get(fw) else None  # noqa: E731
        cr = g("chainrule", "step_ms")
        row = [job, cfg.label, cfg.batch] + [_f(g(fw, "step_ms")) for fw in frameworks]
        for fw, _ in RATIO_COLUMNS:
            if fw in frameworks:
                row.append(_f(g(fw, "step_ms") / cr, ".2f") if cr and g(fw, "step_ms") else "-")
        if "numpy" in frameworks:
            row.append(_f(cr / g("numpy", "step_ms"), ".2f") if cr and g("numpy", "step_ms") else "-")
        row += [_f(g(fw, "bwd_fwd"), ".2f") for fw in ("chainrule", "torch") if fw in frameworks]
        row.append("/".join(_f(g(fw, "peak_rss_mb"), ".0f") for fw in frameworks))
        gc_ms, gc_n = g("chainrule", "gc_ms_per_step"), g("chainrule", "gc_collections_per_step")
        row.append(f"{100 * gc_ms / cr:.2f}% ({gc_n:.2g}/step)" if cr else "-")
        rows.append(row)
    hdr = ["job", "net", "batch"] + [f"{fw} ms" for fw in frameworks]
    hdr += [h for fw, h in RATIO_COLUMNS if fw in frameworks] + (["cr/numpy"] if "numpy" in frameworks else [])
    hdr += [f"{'cr' if fw == 'chainrule' else fw} bwd/fwd" for fw in ("chainrule", "torch") if fw in frameworks]
    hdr += ["peak RSS MB " + "/".join("cr" if fw == "chainrule" else fw for fw in frameworks), "cr gc time"]
    lines = [common.fmt_table(hdr, rows),
             f"ms = median {clock}-clock ms per training step over the processes; x/cr > 1: chainrule faster; "
             "cr/numpy: chainrule's time over the hand-written bound; bwd/fwd = (fwd+bwd - fwd) / fwd; "
             "cr gc time = share of the step spent in Python's cyclic collector (collections per step)"]
    trows = []
    for job, s in results.items():
        for what, v, t, met in targets(job, s):
            cmp_ = "<=" if what.startswith(("time", "backward", "peak")) else ">="
            trows.append([job, what, f"{v:.2f}", f"{cmp_} {t:g}", "met" if met else "MISSED"])
    if trows:
        lines += ["", "targets of issue 5", common.fmt_table(["job", "measure", "value", "target", ""], trows)]
    return "\n".join(lines)


def cross_check(raw: dict, frameworks: list[str], clock: str) -> str:
    """The speed ratios again by the other clock: where the two disagree, the machine was busy."""
    rows = []
    for job, byfw in raw.items():
        s = {fw: summarize(rs, clock) for fw, rs in byfw.items()}
        cr = s.get("chainrule")
        if not cr:
            continue
        row = [job, f"{cr['step_ms']:.3g}"]
        for fw in ("torch", "mygrad"):
            if fw in frameworks:
                row.append(f"{s[fw]['step_ms'] / cr['step_ms']:.2f}" if s.get(fw) else "-")
        if "numpy" in frameworks:
            row.append(f"{cr['step_ms'] / s['numpy']['step_ms']:.2f}" if s.get("numpy") else "-")
        rows.append(row)
    hdr = ["job", "chainrule ms"] + [f"{fw}/cr" for fw in ("torch", "mygrad") if fw in frameworks]
    hdr += ["cr/numpy"] if "numpy" in frameworks else []
    return f"the same ratios by the {clock} clock (each process's medians)\n" + common.fmt_table(hdr, rows)


def plot(results: dict, path: str) -> None:
    """Bars: chainrule's speed-up over each framework per job (>1: chainrule faster), torch targets marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jobs = [j for j, s in results.items() if s.get("chainrule")]
    others = [fw for fw in ("torch", "mygrad", "numpy") if any(results[j].get(fw) for j in jobs)]
    fig, ax = plt.subplots(figsize=(1.6 * len(jobs) + 2, 4))
    width = 0.8 / max(1, len(others))
    for i, fw in enumerate(others):
        xs, ys = [], []
        for k, j in enumerate(jobs):
            if results[j].get(fw):
                xs.append(k + (i - (len(others) - 1) / 2) * width)
                ys.append(results[j][fw]["step_ms"] / results[j]["chainrule"]["step_ms"])
        ax.bar(xs, ys, width, label=f"{fw} time / chainrule time")
    tx = [k for k, j in enumerate(jobs) if j in common.SPEEDUP_TARGET]
    ax.scatter(tx, [common.SPEEDUP_TARGET[jobs[k]] for k in tx], marker="_", s=400, color="black",
               zorder=3, label="target over torch")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(range(len(jobs)), jobs)
    ax.set_ylabel("speed-up of chainrule (x)")
    ax.set_title("training step, float32, 1 process per framework (>1: chainrule faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# framework -> the library its worker imports (chainrule and numpy are always there)
NEEDS = {"torch": "torch", "mygrad": "mygrad"}


def check_frameworks(frameworks: list[str]) -> None:
    """Stop before any work, in one line, when a chosen framework's library is missing."""
    import importlib.util

    missing = [fw for fw in frameworks if fw in NEEDS and importlib.util.find_spec(NEEDS[fw]) is None]
    if missing:
        rest = [fw for fw in frameworks if fw not in missing]
        raise SystemExit(f"benchmarks: {' and '.join(NEEDS[fw] for fw in missing)} not installed: "
                         f"pip install -e '.[test,bench]' (or leave {'them' if len(missing) > 1 else 'it'} out: "
                         f"--frameworks {','.join(rest)})")


def run(args) -> int:
    jobs = _parse_list(args.configs or ",".join(common.QUICK_JOBS if args.quick else common.JOBS),
                       common.JOBS, "config")
    frameworks = _parse_list(args.frameworks, options.FRAMEWORKS, "framework")
    check_frameworks(frameworks)
    rounds = args.rounds or (1 if args.quick else 2)
    t_start = time.perf_counter()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    unset = {v: os.environ.get(v) for v in common.UNSET_VARS}
    print(f"chainrule benchmarks  {now}  {machine()}")
    print(f"threads={args.threads} in every worker ({', '.join(common.THREAD_VARS)} set before NumPy loads); "
          f"{' and '.join(common.UNSET_VARS)} unset for the workers (here: "
          + ", ".join(f"{k}={v if v is not None else '<unset>'}" for k, v in unset.items()) + ")")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores before the run")
    print(f"jobs {','.join(jobs)}; frameworks {','.join(frameworks)}; {rounds} process(es) each, alternating"
          + ("; quick mode" if args.quick else ""), flush=True)

    meta = dict(date=now, machine=machine(), threads=args.threads, rounds=rounds, quick=args.quick, clock=args.clock,
                unset_for_workers=list(common.UNSET_VARS), env_here=unset)
    imp = import_time(args.threads) if "chainrule" in frameworks else {}
    if imp:
        sfx = "_cpu_s" if args.clock == "cpu" else "_s"
        ok = imp["total" + sfx] <= common.IMPORT_TARGET_S
        print(f"import chainrule: {imp['total_s']:.3f} s wall, {imp['total_cpu_s']:.3f} s CPU, NumPy included "
              f"(its own part {imp['own_s']:.3f} s wall, {imp['own_cpu_s']:.3f} s CPU); "
              f"target <= {common.IMPORT_TARGET_S} s ({args.clock}): {'met' if ok else 'MISSED'}", flush=True)
        from chainrule.optim import blas

        meta["optimizer_blas"] = blas.available()
        print("chainrule's optimizers: axpy/axpby " + ("in NumPy's OpenBLAS" if meta["optimizer_blas"] else
                                                        "not found, NumPy's two-pass form"), flush=True)

    ovh = None
    if not args.no_overhead:
        fws = [f for f in overhead.FRAMEWORKS if f in frameworks]
        ovh = overhead.summarize(overhead.run_workers(args.threads, 1 if args.quick else 2, fws))
        if not getattr(args, "quiet", False):
            print(f"  overhead done ({time.perf_counter() - t_start:.0f} s)", flush=True)

    raw: dict = {}
    for job in jobs:
        for r in range(rounds):
            order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
            for fw in order:
                res = run_job(fw, job, args.threads, args.quick)
                raw.setdefault(job, {}).setdefault(fw, []).append(res)
                if "error" in res:
                    print(f"  {job} {fw}: failed: {res['error']}", flush=True)
        if not getattr(args, "quiet", False):
            print(f"  {job} done ({time.perf_counter() - t_start:.0f} s)", flush=True)
    results = {job: {fw: summarize(rs, args.clock) for fw, rs in byfw.items()} for job, byfw in raw.items()}

    env = next((r["env"] for byfw in raw.values() for rs in byfw.values() for r in rs if "env" in r), "")
    print("\n" + env + "\n")
    print(report(results, frameworks, args.clock))
    other = "cpu" if args.clock == "wall" else "wall"
    print("\n" + cross_check(raw, frameworks, other))
    if ovh:
        print("\n" + overhead.report(ovh))
        c = ovh["chains"].get("chainrule", {})
        if "chain10" in c:
            print(f"  chainrule chain10 {c['chain10']:.1f} us median ({c['chain10 best']:.1f} best), target <= "
                  f"{common.CHAIN_TARGET_US:.0f} us: {'met' if c['chain10'] <= common.CHAIN_TARGET_US else 'MISSED'}")
    load = os.getloadavg()
    busy = load[1] > args.threads + 0.5  # the benchmark itself keeps `threads` cores busy
    print(f"\ntotal wall {time.perf_counter() - t_start:.0f} s; load average {load[0]:.2f} / {load[1]:.2f} (1 / 5 min)"
          + (": other processes shared the CPU, so wall-clock timings of the larger configs are inflated"
             + ("" if args.clock == "cpu" else " (rerun with --clock cpu)") if busy else ""))
    meta["loadavg_end"] = load

    if args.json:
        out = dict(meta=meta, import_chainrule=imp, overhead=ovh, results=results, raw=raw,
                   targets={job: [dict(measure=w, value=v, target=t, met=m) for w, v, t, m in targets(job, s)]
                            for job, s in results.items()})
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot(results, args.plot)
        print(f"wrote {args.plot}")
    failed = sum("error" in r for byfw in raw.values() for rs in byfw.values() for r in rs)
    if failed:
        print(f"benchmarks: {failed} worker process(es) failed (see 'failed:' above)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(options.parser().parse_args(argv))
