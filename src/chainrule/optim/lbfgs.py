"""L-BFGS with PyTorch's iteration: a closure re-evaluates the loss; the inverse Hessian is approximated from
the last ``history_size`` steps by the two-loop recursion, in the parameters' dtype over one flat vector; the
step is lr (PyTorch's default) or found by the strong Wolfe line search (``line_search_fn="strong_wolfe"``)."""
from __future__ import annotations

from typing import Callable, Iterable

from .. import arguments as arg
from ..autograd import enable_grad, no_grad
from ..backend import xp
from ..tensor import Tensor
from .line_search import strong_wolfe
from .optimizer import Optimizer, OptimizerStateError


class LBFGS(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        arg.number("LBFGS", "learning rate", lr, 0.0)
        max_iter = arg.integer("LBFGS", "max_iter", max_iter, 1)
        max_eval = max_iter * 5 // 4 if max_eval is None else arg.integer("LBFGS", "max_eval", max_eval, 1)
        arg.integer("LBFGS", "history_size", history_size, 1)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', not {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        return xp.concatenate([xp.zeros(p._data.size, p._data.dtype) if p.grad is None else
                               p.grad._data.reshape(-1) for p in self._params])

    def _add(self, t, d) -> None:
        at = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[at:at + n]).reshape(p._data.shape).astype(p._data.dtype, copy=False)
            at += n

    def _trial(self, closure: Callable, d):
        """evaluate(t): the loss and flat gradient at x + t·d, the parameters put back at x afterwards."""
        def evaluate(t):
            saved = [p._data.copy() for p in self._params]
            self._add(t, d)
            with enable_grad():
                loss = float(closure())
            flat = self._flat_grad()
            for p, a in zip(self._params, saved):
                p._data[...] = a
            return loss, flat

        return evaluate

    def step(self, closure: Callable | None = None):
        """Up to max_iter iterations, each one evaluation of ``closure`` (required: it recomputes the loss)."""
        if closure is None:
            raise ValueError("LBFGS.step needs a closure that clears the gradients, computes the loss, calls "
                             "loss.backward() and returns the loss")
        g = self.param_groups[0]
        lr, max_iter, max_eval = float(g["lr"]), g["max_iter"], g["max_eval"]
        tol_grad, tol_change, history = g["tolerance_grad"], g["tolerance_change"], g["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat = self._flat_grad()
        dt = flat.dtype.type
        if xp.abs(flat).max() <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        dirs, steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d, dirs, steps, ro, h_diag = -flat, [], [], [], dt(1.0)
                else:
                    y, s = flat - prev_flat, d * t
                    ys = dt(y @ s)
                    if ys > 1e-10:  # keep the pair only where the curvature is positive
                        if len(dirs) == history:
                            dirs.pop(0), steps.pop(0), ro.pop(0)
                        dirs.append(y), steps.append(s), ro.append(dt(1.0) / ys)
                        h_diag = ys / dt(y @ y)
                    q = -flat
                    al = [dt(0.0)] * len(dirs)
                    for i in range(len(dirs) - 1, -1, -1):
                        al[i] = dt(steps[i] @ q) * ro[i]
                        q = q - al[i] * dirs[i]
                    d = r = q * h_diag
                    for i in range(len(dirs)):
                        be = dt(dirs[i] @ r) * ro[i]
                        r += (al[i] - be) * steps[i]
                prev_flat = flat.copy()
                prev_loss = loss
                t = dt(min(1.0, 1.0 / float(xp.abs(flat).sum())) * lr) if state["n_iter"] == 1 else dt(lr)
                if dt(flat @ d) > -tol_change:  # not a descent direction any more
                    break
                if g["line_search_fn"] == "strong_wolfe":
                    loss, flat, t, used = strong_wolfe(self._trial(closure, d), t, d, loss, flat, float(flat @ d),
                                                      max_ls=max_eval - evals)
                    t = dt(t)
                    self._add(t, d)
                    evals += used
                    state["func_evals"] += used
                else:
                    self._add(t, d)
                    if n_iter != max_iter:
                        with enable_grad():
                            loss = float(closure())
                        flat = self._flat_grad()
                        evals += 1
                        state["func_evals"] += 1
                if n_iter == max_iter or evals >= max_eval or xp.abs(flat).max() <= tol_grad:
                    break
                if xp.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                    break
        state.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=ro, H_diag=h_diag, prev_flat_grad=prev_flat,
                     prev_loss=prev_loss)
        return orig_loss

    def state_dict(self) -> dict:
        out = super().state_dict()
        for st in out["state"].values():
            for k, v in list(st.items()):
                if isinstance(v, xp.ndarray):
                    st[k] = Tensor._make(v, None)
                elif isinstance(v, list):
                    st[k] = [Tensor._make(a, None) if isinstance(a, xp.ndarray) else float(a) for a in v]
                elif isinstance(v, xp.generic):
                    st[k] = float(v)
        return out

    def _load_param_state(self, st, p, group: dict, index) -> dict:
        """PyTorch's LBFGS state (counters, vectors over all parameters, and their lists), checked for size."""
        if not isinstance(st, dict):
            raise OptimizerStateError(f"LBFGS state must be a dict, got {type(st).__name__}")
        size = sum(q._data.size for q in self._params)
        dtype = self._params[0]._data.dtype

        def vector(v, name):
            a = xp.asarray(v._data if isinstance(v, Tensor) else v.detach().cpu().numpy() if hasattr(v, "detach")
                           else v, dtype=dtype)
            if a.shape != (size,):
                raise OptimizerStateError(f"LBFGS state {name!r}: expected a vector of {size} values (all "
                                          f"parameters), got shape {a.shape}")
            return a

        def number(v, name):
            a = xp.asarray(v._data if isinstance(v, Tensor) else v.detach().cpu().numpy() if hasattr(v, "detach")
                           else v)
            if a.size != 1 or a.dtype.kind not in "iuf" or not xp.isfinite(a).all():
                raise OptimizerStateError(f"LBFGS state {name!r} must be one finite number, got {a!r:.40}")
            return dtype.type(a.reshape(()))

        out = {}
        for k, v in st.items():
            if k in ("func_evals", "n_iter"):
                out[k] = int(number(v, k))
            elif k in ("d", "prev_flat_grad"):
                out[k] = None if v is None else vector(v, k)
            elif k in ("t", "H_diag"):
                out[k] = None if v is None else number(v, k)
            elif k == "prev_loss":
                out[k] = None if v is None else float(number(v, k))
            elif k in ("old_dirs", "old_stps"):
                out[k] = [vector(a, k) for a in v]
            elif k == "ro":
                out[k] = [number(a, k) for a in v]
        return out
