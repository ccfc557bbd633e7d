"""Every public function, Tensor method and nn layer, called with hostile arguments, either works or raises
chainrule's own error naming the op: never an exception escaping from NumPy or Python internals.

The probes are generated, not chosen: each public callable of ``chainrule``, ``chainrule.nn.functional``,
each Tensor method (on a good tensor and on hostile ones) and each nn layer's constructor and forward is
called with a table of hostile values in each argument slot (the other slots good).  An exception passes
when it is a ``ChainruleError``, or when it was raised by chainrule's own code (its innermost traceback
frame is inside ``src/chainrule``) with a message that names the op.  ``python tests/test_bad_input_audit.py``
prints the counts and every escape.
"""
from __future__ import annotations

import inspect
import operator
import resource
import signal
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

SRC = str(Path(cr.__file__).resolve().parent)
HUGE = 2**62  # a size NumPy refuses before allocating ("array is too big"), never a real allocation


def hostile() -> dict:
    """The table of hostile values, made fresh for every probe (an in-place method must not change the next)."""
    return {
        "empty": cr.zeros(0), "empty2d": cr.zeros(2, 0), "0-d": cr.tensor(1.5),
        "int": cr.tensor([[1, 2, 3], [4, 5, 6]]),
        "bool": cr.tensor([[True, False, True], [False, True, False]]), "ndarray": np.ones((2, 3), np.float32),
        "list": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "ragged": [[1.0, 2.0], [3.0]], "-1": -1, "2.5": 2.5,
        "huge": HUGE, "None": None, "str": "abc", "dim 7": 7, "mismatched": cr.ones(5, 7), "nan": float("nan"),
        "float64": cr.ones(2, 3, dtype=cr.float64),
    }


def good():
    return cr.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 6 + 0.1, requires_grad=True)


# Not probed: they write files, start processes or replace global state that later tests rely on.
SKIP = {"save", "load", "set_default_device", "seed", "default_generator", "detect_anomaly", "no_grad",
        "enable_grad", "Function", "FunctionCtx", "Generator", "Tensor", "Size", "device", "inference_mode",
        "set_num_threads", "set_num_interop_threads", "set_printoptions", "set_rng_state", "set_default_dtype",
        "use_deterministic_algorithms",
        # Tensor methods that are attributes or give a view of internals rather than compute
        "data", "grad", "grad_fn", "requires_grad", "is_leaf", "retains_grad", "shape", "ndim", "dtype", "T", "mT",
        "register_hook", "register_post_accumulate_grad_hook"}
INTERNAL_F = {"apply", "apply1", "apply_residual", "check_indices", "flat_index", "out_size"}
LAYERS = {  # a good construction and a good input for each layer (others: constructed from their own defaults)
    "Linear": ((3, 2), (4, 3)), "Conv2d": ((1, 2, 3), (2, 1, 5, 5)), "BatchNorm1d": ((3,), (4, 3)),
    "BatchNorm2d": ((1,), (2, 1, 4, 4)), "LayerNorm": ((3,), (4, 3)), "Embedding": ((5, 2), None),
    "MaxPool2d": ((2,), (1, 1, 4, 4)), "AvgPool2d": ((2,), (1, 1, 4, 4)), "MultiheadAttention": ((4, 2), (2, 3, 4)),
    "TransformerEncoderLayer": ((4, 2), (2, 3, 4)), "Dropout": ((0.5,), (4, 3)), "LeakyReLU": ((0.1,), (4, 3)),
}
CONTAINERS = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Transformer",
              "TransformerEncoder"}


def public_functions() -> list[tuple[str, object]]:
    fns = [(f"cr.{n}", getattr(cr, n)) for n in sorted(cr.__all__)
           if n not in SKIP and callable(getattr(cr, n)) and not isinstance(getattr(cr, n), (type, np.dtype))
           and not isinstance(getattr(cr, n), type(np.float32)) and not n[0].isupper()]
    for n in sorted(dir(F)):
        fn = getattr(F, n)
        if (n.startswith("_") or n in INTERNAL_F or isinstance(fn, type) or not callable(fn)
                or not getattr(fn, "__module__", "").startswith("chainrule")):
            continue
        fns.append((f"F.{n}", fn))
    return fns


def _required(fn) -> tuple[int, bool]:
    """How many positional arguments ``fn`` needs, and whether it takes more (``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1, False
    need = sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    star = any(p.kind is p.VAR_POSITIONAL for p in params)
    return need, star


def _bindable(fn, args) -> bool:
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def probes():
    """(label, op name, thunk) for every probe."""
    out = []
    for label, fn in public_functions():
        need, star = _required(fn)
        slots = max(need, 1) + (1 if star else 0)
        name = label.split(".", 1)[1]
        for i in range(slots):
            for hname in hostile():
                def call(fn=fn, i=i, hname=hname, slots=slots):
                    args = [good() for _ in range(slots)]
                    args[i] = hostile()[hname]
                    if not _bindable(fn, args):
                        return
                    return fn(*args)
                out.append((f"{label}(slot {i} = {hname})", name, call))
    for m in sorted(dir(cr.Tensor)):
        if m.startswith("_") or m in SKIP or not callable(getattr(cr.Tensor, m, None)) or m == "of":
            continue
        meth = getattr(cr.Tensor, m)
        need, star = _required(meth)
        slots = max(need - 1, 0) + (1 if star else 0)
        for i in range(slots):
            for hname in hostile():
                def call(m=m, i=i, hname=hname, slots=slots):
                    args = [good() for _ in range(slots)]
                    args[i] = hostile()[hname]
                    bound = getattr(good(), m)
                    if not _bindable(bound, args):
                        return
                    return bound(*args)
                out.append((f"Tensor.{m}(slot {i} = {hname})", m, call))
        for hname, h in hostile().items():  # hostile receivers, called with what a good call would pass
            if not isinstance(h, cr.Tensor):
                continue
            def call(m=m, hname=hname, slots=slots):
                recv = hostile()[hname]
                bound = getattr(recv, m)
                args = [good() for _ in range(slots)]
                if not _bindable(bound, args):
                    return
                return bound(*args)
            out.append((f"<{hname}>.{m}()", m, call))
    for op, f in OPERATORS.items():  # a good tensor on the left; on the right too where Python asks the Tensor
        for hname in hostile():
            out.append((f"good {op} <{hname}>", op, lambda f=f, hname=hname: f(good().detach(), hostile()[hname])))
            if op in REFLECTED:
                out.append((f"<{hname}> {op} good", op, lambda f=f, hname=hname: f(hostile()[hname], good())))
    for n in sorted(dir(nn)):
        cls = getattr(nn, n)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)) or n in CONTAINERS:
            continue
        ctor, shape = LAYERS.get(n, ((), (4, 3)))
        for i in range(len(ctor)):
            for hname in hostile():
                def call(cls=cls, ctor=ctor, i=i, hname=hname):
                    args = list(ctor)
                    args[i] = hostile()[hname]
                    return cls(*args)
                out.append((f"nn.{n}(slot {i} = {hname})", n, call))
        for hname in hostile():
            def call(cls=cls, ctor=ctor, hname=hname):
                return cls(*ctor)(hostile()[hname])
            out.append((f"nn.{n}(...)({hname})", n, call))
    return out


def _setitem(t, index):
    t[index] = 1.0


OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
             "pow": operator.pow, "matmul": operator.matmul, "lt": operator.lt, "ge": operator.ge,
             "eq": operator.eq, "indexing": operator.getitem, "item assignment": _setitem,
             "and": operator.and_, "or": operator.or_, "add_": operator.iadd, "mul_": operator.imul}
REFLECTED = {"add", "sub", "mul", "div", "pow", "matmul", "lt", "ge"}


def _names(op: str) -> set[str]:
    """What an error message about ``op`` may call it (aliases name what they call)."""
    aliases = {"clamp": {"clip"}, "clip": {"clamp"}, "concatenate": {"cat"}, "greater": {"gt"}, "less": {"lt"},
               "greater_equal": {"ge"}, "less_equal": {"le"}, "not_equal": {"ne"}, "amax": {"max"}, "amin": {"min"},
               "long": {"to"}, "float": {"to"}, "double": {"to"}, "half": {"to"}, "int": {"to"}, "bool": {"to"},
               "view": {"reshape"}, "view_as": {"reshape"}, "reshape_as": {"reshape"}, "nelement": {"numel"},
               "max": {"maximum"}, "min": {"minimum"}, "clamp_min": {"clip"}, "clamp_max": {"clip"},
               "lt": {"less", "greater", "gt"}, "ge": {"greater_equal", "less_equal", "le"}, "div": {"divide"},
               "sub": {"subtract"}}
    return {op, op.lower(), *aliases.get(op, ())}


def classify(op: str, exc: BaseException) -> str | None:
    """None when ``exc`` is chainrule's own clear error, else why it is an escape."""
    if isinstance(exc, cr.ChainruleError):
        return None
    tb = exc.__traceback__
    frames = traceback.extract_tb(tb)
    inner = frames[-1].filename if frames else ""
    if not str(Path(inner).resolve()).startswith(SRC):
        return f"escaped from {Path(inner).name}:{frames[-1].lineno if frames else '?'}"
    msg = str(exc)
    if not any(n in msg for n in _names(op)):
        return f"raised in {Path(inner).name}:{frames[-1].lineno} without naming {op}"
    return None


class _Timeout(Exception):
    pass


def run_probes():
    """Run every probe under a time and memory bound; return (probes tried, escapes)."""
    escapes = []
    old_alarm = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(_Timeout()))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (min(hard, 8 << 30) if hard != resource.RLIM_INFINITY else 8 << 30, hard))
    import warnings
    all_probes = probes()
    try:
        for label, op, thunk in all_probes:
            signal.setitimer(signal.ITIMER_REAL, 5.0)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thunk()
            except _Timeout:
                escapes.append((label, "took over 5 s"))
            except Exception as e:  # noqa: BLE001 - every exception is classified
                why = classify(op, e)
                if why:
                    escapes.append((label, f"{type(e).__name__}: {str(e)[:150]} ({why})"))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                cr.set_grad_enabled(True)
                cr.manual_seed(0)
    finally:
        signal.signal(signal.SIGALRM, old_alarm)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return len(all_probes), escapes


def test_no_error_escapes_from_numpy_or_python_internals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing probed should write, but if it did, not into the checkout
    tried, escapes = run_probes()
    assert tried > 5000  # the table really was generated from the public API
    assert not escapes, f"{len(escapes)} of {tried} probes escaped:\n" + "\n".join(f"{a}: {b}" for a, b in escapes)


@pytest.mark.parametrize("bad", [lambda: cr.reshape(cr.ones(2, 3), "a"), lambda: cr.ones(2, 3).sum(dim="x")])
def test_the_classifier_catches_a_python_internals_escape(bad):
    """The audit's own check can fail: an AttributeError raised by NumPy is an escape."""
    try:
        np.ones(3).reshape("a")
    except Exception as e:  # noqa: BLE001
        assert classify("reshape", e) is not None
    with pytest.raises(cr.ChainruleError):
        bad()


if __name__ == "__main__":
    tried, escapes = run_probes()
    for a, b in escapes:
        print(f"{a}: {b}")
    print(f"{tried} probes, {len(escapes)} escapes")
    sys.exit(1 if escapes else 0)


@pytest.mark.parametrize("call, msg", [
    (lambda: cr.ones(2, 3).reshape(6.7), "reshape: the sizes of a shape must be integers, got 6.7"),
    (lambda: cr.ones(2, 3).reshape("6"), "reshape: the sizes of a shape must be integers, got '6'"),
    (lambda: cr.pad(cr.ones(2, 3), (1.5, 1)), "pad: pad widths must be integers, got 1.5"),
    (lambda: cr.ones(2, 3).permute(1.0, 0), "permute: axes must be integers, got 1.0"),
    (lambda: cr.ones(2, 3).expand(2, 3.0), "expand: the sizes of a shape must be integers, got 3.0"),
    (lambda: cr.roll(cr.ones(3), 1.5, 0), "roll: shifts must be integers, got 1.5"),
])
def test_a_non_integer_size_is_refused_not_truncated(call, msg):
    """reshape(6.7) was reshape(6): int() truncated it silently (PyTorch refuses a float size)."""
    with pytest.raises(cr.ArgumentError) as info:
        call()
    assert msg in str(info.value)
    assert cr.ones(2, 3).reshape(np.int64(6)).shape == (6,)  # NumPy and 0-d tensor integers are integers
    assert cr.ones(2, 3).reshape(cr.tensor(6)).shape == (6,)


def test_a_rephrased_error_names_the_op_the_arguments_and_the_original_message():
    with pytest.raises(cr.ArgumentError) as info:
        cr.zeros(HUGE)
    assert str(info.value).startswith("zeros: array is too big") and f"(called with {HUGE})" in str(info.value)
    with pytest.raises(cr.ShapeError, match=r"^multinomial: negative dimensions .* Tensor of shape \(3,\)"):
        cr.multinomial(cr.ones(3), -1)
    t = cr.ones(2, 3)
    with pytest.raises(IndexError, match=r"^item assignment: only integers, .* \(called with Tensor of shape"):
        t["abc"] = 1.0


def test_errors_of_the_users_own_code_pass_through_untouched():
    """A user's function that fails inside gradcheck, a hook or a module keeps its own exception."""
    def bad(x):
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine") as info:
        cr.gradcheck(bad, [cr.ones(2, dtype=cr.float64, requires_grad=True)])
    assert not isinstance(info.value, cr.ChainruleError)

    class Mine(nn.Module):
        def forward(self, x):
            return np.ones(2) @ np.ones(3)  # NumPy fails, called by the user's own code

    with pytest.raises(ValueError) as info:
        nn.Sequential(Mine())(cr.ones(2))
    assert not isinstance(info.value, cr.ChainruleError) and "matmul" in str(info.value)


def test_guarded_functions_still_pickle_by_reference():
    """The guard replaces the public functions; pickle (multiprocessing, saved configs) must find the same ones."""
    import pickle

    for fn in (cr.relu, cr.reshape, cr.tensor, cr.concatenate, F.cross_entropy, cr.Tensor.reshape):
        assert pickle.loads(pickle.dumps(fn)) is fn
