"""Per-op overhead on tiny tensors: chainrule beside PyTorch (and MyGrad for the chains).

python -m benchmarks.overhead [--threads 1] [--rounds 3] [--json FILE]

Each op is applied 10 times in a chain on 4x4 float32 tensors whose operands
all require gradients, then ``backward`` runs from the last output; the time
per op is the chain's time / 10.  Two 10-op chains, forward + backward, are
timed whole: ``chain10`` is ../shared/anchors/overhead.py's ((y * w + b).tanh()
three times, then sum) and ``chain10-mixed`` other_numpy_engines.py's (x*2, +w,
@w, tanh, *x, -1, sigmoid, +x, y*y, sum).  Every framework runs in processes
of its own, alternating, ``--rounds`` times; medians are reported.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
from types import SimpleNamespace

from . import common

FRAMEWORKS = ("chainrule", "torch", "mygrad")

# op name -> f(y, k) applied 10 times; k holds the other operands. The same code drives
# chainrule and PyTorch, since chainrule uses PyTorch's names.
OPS = {
    "add": lambda y, k: y + k.b,
    "sub": lambda y, k: y - k.b,
    "mul": lambda y, k: y * k.b,
    "div": lambda y, k: y / k.d,
    "neg": lambda y, k: -y,
    "add scalar": lambda y, k: y + 1.0,
    "mul scalar": lambda y, k: y * 0.5,
    "matmul": lambda y, k: y @ k.w,
    "tanh": lambda y, k: y.tanh(),
    "sigmoid": lambda y, k: y.sigmoid(),
    "relu": lambda y, k: y.relu(),
    "sin": lambda y, k: y.sin(),
    "reshape": lambda y, k: y.reshape(4, 4),
    ".T": lambda y, k: y.T,
    "index (int array)": lambda y, k: y[k.perm],
    "softmax(dim=1)": lambda y, k: y.softmax(dim=1),
}
CHAIN_TARGET_NOTE = "a plain ~40-line reverse-mode engine on NumPy: ~35 us (anchor)"


def _chain10(x, w, b):
    y = x
    for _ in range(3):
        y = (y * w + b).tanh()
    return y.sum()


def _chain10_mixed(x, w):
    y = x * 2.0
    y = y + w
    y = y @ w
    y = y.tanh()
    y = y * x
    y = y - 1.0
    y = y.sigmoid()
    y = y + x
    y = y * y
    return y.sum()


def _leaves(framework: str):
    """Framework module and a namespace of 4x4 float32 leaves requiring grad."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4), dtype=np.float32)
    arrays = dict(x=a, b=rng.standard_normal((4, 4), dtype=np.float32),
                  w=(0.5 * rng.standard_normal((4, 4))).astype(np.float32),
                  d=rng.uniform(1.0, 2.0, (4, 4)).astype(np.float32))
    if framework == "chainrule":
        import chainrule as fw
        perm = fw.tensor(np.array([1, 0, 3, 2]))
    elif framework == "torch":
        import torch as fw
        perm = fw.tensor([1, 0, 3, 2])
    else:
        import mygrad as fw
        perm = np.array([1, 0, 3, 2])
    kw = {} if framework == "mygrad" else dict(requires_grad=True)  # MyGrad: float tensors are variables
    k = SimpleNamespace(**{n: fw.tensor(v.copy(), **kw) for n, v in arrays.items()})
    k.perm = perm
    k.g = fw.tensor(np.ones((4, 4), np.float32))
    k.leaves = (k.x, k.b, k.w, k.d)
    return fw, k


def _clear(k) -> None:
    for t in k.leaves:
        t.grad = None


def _time_ops(k) -> dict:
    out = {}
    for name, f in OPS.items():
        def fwd(f=f):
            y = k.x
            for _ in range(10):
                y = f(y, k)
            return y

        def fwdbwd(fwd=fwd):
            fwd().backward(k.g)
            _clear(k)

        out[name] = dict(fwd_us=common.time_calls(fwd, min_time=0.05, repeats=5) * 1e5,
                         fwdbwd_us=common.time_calls(fwdbwd, min_time=0.05, repeats=5) * 1e5)
    return out


def _chains(framework: str, k) -> dict:
    if framework == "mygrad":
        import mygrad as mg
        from mygrad.nnet.activations import sigmoid

        def c10():  # MyGrad nulls grads when the leaves enter the next op
            y = k.x
            for _ in range(3):
                y = mg.tanh(y * k.w + k.b)
            y.sum().backward()

        def c10m():
            x, w = k.x, k.w
            y = mg.tanh((x * 2.0 + w) @ w) * x - 1.0
            y = sigmoid(y) + x
            (y * y).sum().backward()
    else:
        def c10():
            _chain10(k.x, k.w, k.b).backward()
            _clear(k)

        def c10m():
            _chain10_mixed(k.x, k.w).backward()
            _clear(k)

    res = {}
    for name, fn in (("chain10", c10), ("chain10-mixed", c10m)):
        res[name] = common.time_calls(fn, min_time=0.3) * 1e6
        res[name + " best"] = common.time_calls(fn, min_time=0.3, best=True) * 1e6
        gc.collect()
        gc.disable()
        try:
            res[name + " gc off"] = common.time_calls(fn, min_time=0.2) * 1e6
        finally:
            gc.enable()
    return res


def worker(framework: str) -> dict:
    fw, k = _leaves(framework)
    if framework == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    res = dict(framework=framework, chains=_chains(framework, k))
    if framework != "mygrad":  # MyGrad's methods differ from PyTorch's: chains only
        res["ops"] = _time_ops(k)
    return res


def run_workers(threads: int, rounds: int, frameworks=FRAMEWORKS, log=print) -> dict:
    """framework -> list of worker results, one per process, rounds alternating."""
    env = common.worker_env(threads)
    out: dict = {}
    for _ in range(rounds):
        for f in frameworks:
            cmd = [sys.executable, "-m", "benchmarks.overhead", "--worker", f, "--threads", str(threads)]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=common.REPO)
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if not lines:
                log(f"  overhead worker {f} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            out.setdefault(f, []).append(json.loads(lines[-1][7:]))
    return out


def summarize(res: dict) -> dict:
    """Medians over processes: {"chains": {fw: {name: us}}, "ops": {op: {fw: {fwd_us, fwdbwd_us}}}}."""
    chains = {f: {n: statistics.median(r["chains"][n] for r in rs) for n in rs[0]["chains"]}
              for f, rs in res.items()}
    ops: dict = {}
    for f, rs in res.items():
        if "ops" not in rs[0]:
            continue
        for op in rs[0]["ops"]:
            ops.setdefault(op, {})[f] = {m: statistics.median(r["ops"][op][m] for r in rs)
                                         for m in ("fwd_us", "fwdbwd_us")}
    return dict(chains=chains, ops=ops)


def report(s: dict) -> str:
    lines = []
    ops = s["ops"]
    if ops and all("chainrule" in v and "torch" in v for v in ops.values()):
        rows = []
        for op, v in ops.items():
            c, t = v["chainrule"], v["torch"]
            rows.append([op, f"{c['fwd_us']:.2f}", f"{t['fwd_us']:.2f}", f"{t['fwd_us'] / c['fwd_us']:.2f}",
                         f"{c['fwdbwd_us']:.2f}", f"{t['fwdbwd_us']:.2f}",
                         f"{t['fwdbwd_us'] / c['fwdbwd_us']:.2f}"])
        lines.append("per op, us (chain of 10 on 4x4 float32, all operands require grad; "
                     "fwd+bwd includes backward's fixed cost / 10); torch/cr > 1: chainrule faster")
        lines.append(common.fmt_table(["op", "cr fwd", "torch fwd", "torch/cr", "cr fwd+bwd",
                                       "torch fwd+bwd", "torch/cr"], rows))
    ch = s["chains"]
    if ch:
        names = ["chain10", "chain10-mixed"]
        rows = [[f] + [f"{v[n]:.1f} / {v[n + ' best']:.1f} / {v[n + ' gc off']:.1f}" for n in names]
                for f, v in ch.items()]
        lines.append(f"\n10-op chains on 4x4 float32, forward + backward, us: median / best of the repeats / "
                     f"median with gc disabled; target <= {common.CHAIN_TARGET_US:.0f} us; {CHAIN_TARGET_NOTE}")
        lines.append(common.fmt_table(["framework"] + names, rows))
        if "chainrule" in ch and "torch" in ch:
            r = [f"{n}: torch/cr = {ch['torch'][n] / ch['chainrule'][n]:.2f}" for n in names]
            lines.append("  " + ", ".join(r))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        common.pin_threads(args.threads)
        print("RESULT " + json.dumps(worker(args.worker)), flush=True)
        return 0
    s = summarize(run_workers(args.threads, args.rounds))
    print(report(s))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
