"""The ops-sweep names that are compositions of table ops (products, rearranging, order statistics,
placement): each checked like a table entry (test_op_table.check_op: forward and gradients against
PyTorch, central differences in float64, second order), on fixed shapes."""
from __future__ import annotations

import pytest
import torch
from test_op_table import check_op

import chainrule as cr
from chainrule.ops.registry import Case

IDX = cr.tensor([2, 0, 2])
TIDX = torch.tensor([2, 0, 2])
ALONG = [[0, 3], [1, 1], [2, 0]]
Q = [0.1, 0.5, 0.9]


def _distances(t, a, b, p):
    return t.linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), ord=p, dim=-1)


class Composite:
    def __init__(self, name: str) -> None:
        self.name = name


COMPOSITES = {
    "mm": Case(lambda t, a, b: t.mm(a, b), call=lambda a, b: cr.mm(a, b), shapes=[(2, 3), (3, 4)]),
    "mv": Case(lambda t, a, b: a.mv(b), call=lambda a, b: a.mv(b), shapes=[(2, 3), (3,)]),
    "dot": Case(lambda t, a, b: a.dot(b), call=lambda a, b: a.dot(b), shapes=[(3,), (3,)]),
    "inner": Case(lambda t, a, b: t.inner(a, b), call=lambda a, b: cr.inner(a, b), shapes=[(2, 3), (4, 3)]),
    "addmv": Case(lambda t, c, a, b: t.addmv(c, a, b, beta=0.5, alpha=2.0),
                  call=lambda c, a, b: cr.addmv(c, a, b, beta=0.5, alpha=2.0), shapes=[(2,), (2, 3), (3,)]),
    "addr": Case(lambda t, c, a, b: t.addr(c, a, b, alpha=3.0), call=lambda c, a, b: cr.addr(c, a, b, alpha=3.0),
                 shapes=[(2, 3), (2,), (3,)]),
    "addcmul": Case(lambda t, c, a, b: c.addcmul(a, b, value=0.5), call=lambda c, a, b: c.addcmul(a, b, value=0.5),
                    arity=3),
    "addcdiv": Case(lambda t, c, a, b: t.addcdiv(c, a, b, value=2.0),
                    call=lambda c, a, b: cr.addcdiv(c, a, b, value=2.0), arity=3, away=0.5),
    "trace": Case(lambda t, a: a.trace(), call=lambda a: a.trace(), shapes=[(2, 3)]),
    "cross": Case(lambda t, a, b: t.cross(a, b, dim=1), call=lambda a, b: cr.cross(a, b, dim=1),
                  shapes=[(2, 3), (2, 3)]),
    "cross-default-dim": Case(lambda t, a, b: t.linalg.cross(a, b, dim=0), call=lambda a, b: cr.cross(a, b),
                              shapes=[(3, 2), (3, 2)]),
    "kron": Case(lambda t, a, b: t.kron(a, b), call=lambda a, b: cr.kron(a, b), shapes=[(2, 3), (2, 1, 2)]),
    # torch.cdist has no second derivative: the cdist itself first order, its formula for the second
    "cdist-2": Case(lambda t, a, b: t.cdist(a, b), call=lambda a, b: cr.cdist(a, b), shapes=[(3, 2), (4, 2)],
                    second=False),
    "cdist-2-second": Case(lambda t, a, b: _distances(t, a, b, 2), call=lambda a, b: cr.cdist(a, b),
                           shapes=[(3, 2), (4, 2)]),
    "cdist-1": Case(lambda t, a, b: t.cdist(a, b, p=1.0), call=lambda a, b: cr.cdist(a, b, p=1.0),
                    shapes=[(2, 3, 2), (2, 4, 2)], second=False),
    "cdist-3": Case(lambda t, a, b: _distances(t, a, b, 3), call=lambda a, b: cr.cdist(a, b, p=3.0),
                    shapes=[(3, 2), (2, 2)]),
    "tile": Case(lambda t, a: a.tile((2, 1, 2)), call=lambda a: a.tile((2, 1, 2)), shapes=[(2, 3)]),
    "take": Case(lambda t, a: t.take(a, TIDX), call=lambda a: cr.take(a, IDX), shapes=[(2, 3)]),
    "take_along_dim": Case(lambda t, a: t.take_along_dim(a, t.tensor(ALONG), 1),
                           call=lambda a: cr.take_along_dim(a, cr.tensor(ALONG), 1), shapes=[(3, 4)]),
    "take_along_dim-broadcast": Case(lambda t, a: a.take_along_dim(t.tensor([[1, 0]]), dim=1),
                                     call=lambda a: a.take_along_dim(cr.tensor([[1, 0]]), dim=1), shapes=[(3, 4)]),
    "take_along_dim-flat": Case(lambda t, a: t.take_along_dim(a, TIDX), call=lambda a: cr.take_along_dim(a, IDX),
                                shapes=[(2, 3)]),
    "movedim": Case(lambda t, a: a.movedim((0, 1), (2, 0)), call=lambda a: a.movedim((0, 1), (2, 0)),
                    shapes=[(2, 3, 4)]),
    "swapaxes": Case(lambda t, a: a.swapaxes(0, 2), call=lambda a: a.swapaxes(0, 2), shapes=[(2, 3, 4)]),
    "unflatten": Case(lambda t, a: a.unflatten(1, (2, -1)), call=lambda a: a.unflatten(1, (2, -1)), shapes=[(3, 4)]),
    "nansum": Case(lambda t, a: a.nansum(1), call=lambda a: a.nansum(1), shapes=[(2, 3)]),
    "nanmean": Case(lambda t, a: t.nanmean(a, 0, keepdim=True), call=lambda a: cr.nanmean(a, 0, keepdim=True),
                    shapes=[(2, 3)]),
    "median-dim": Case(lambda t, a: a.median(1).values, call=lambda a: a.median(1).values, shapes=[(2, 5)]),
    "median-keepdim": Case(lambda t, a: t.median(a, 0, keepdim=True).values,
                           call=lambda a: cr.median(a, 0, keepdim=True).values, shapes=[(4, 3)]),
    "nanmedian-dim": Case(lambda t, a: a.nanmedian(-1).values, call=lambda a: a.nanmedian(-1).values,
                          shapes=[(2, 4)]),
    "mode": Case(lambda t, a: a.mode(1).values, call=lambda a: a.mode(1).values, shapes=[(2, 4)]),
    "quantile": Case(lambda t, a: a.quantile(t.tensor(Q, dtype=a.dtype), dim=1, keepdim=True),
                     call=lambda a: a.quantile(cr.tensor(Q, dtype=a.dtype), dim=1, keepdim=True), shapes=[(2, 5)]),
    "quantile-all": Case(lambda t, a: t.quantile(a, 0.3), call=lambda a: cr.quantile(a, 0.3), shapes=[(2, 3)]),
    "quantile-midpoint": Case(lambda t, a: a.quantile(0.4, dim=0, interpolation="midpoint"),
                              call=lambda a: a.quantile(0.4, dim=0, interpolation="midpoint"), shapes=[(4, 2)]),
    "quantile-nearest": Case(lambda t, a: a.quantile(t.tensor(Q, dtype=a.dtype), interpolation="nearest"),
                             call=lambda a: a.quantile(cr.tensor(Q, dtype=a.dtype), interpolation="nearest"),
                             shapes=[(5,)]),
    "quantile-lower": Case(lambda t, a: a.quantile(0.7, 0, interpolation="lower"),
                           call=lambda a: a.quantile(0.7, 0, interpolation="lower"), shapes=[(5, 2)]),
    "quantile-higher": Case(lambda t, a: a.quantile(0.7, 0, interpolation="higher"),
                            call=lambda a: a.quantile(0.7, 0, interpolation="higher"), shapes=[(5, 2)]),
    "nanquantile": Case(lambda t, a: a.nanquantile(0.25, 1), call=lambda a: a.nanquantile(0.25, 1), shapes=[(2, 5)]),
    "aminmax-min": Case(lambda t, a: t.aminmax(a, dim=1).min, call=lambda a: cr.aminmax(a, dim=1).min, shapes=[(2, 3)]),
    "aminmax-max": Case(lambda t, a: a.aminmax().max, call=lambda a: a.aminmax().max, shapes=[(2, 3)]),
    "index_add": Case(lambda t, a, s: a.index_add(0, TIDX, s, alpha=2.0),
                      call=lambda a, s: a.index_add(0, IDX, s, alpha=2.0), shapes=[(3, 2), (3, 2)]),
    "index_copy": Case(lambda t, a, s: a.index_copy(1, t.tensor([2, 0]), s),
                       call=lambda a, s: a.index_copy(1, cr.tensor([2, 0]), s), shapes=[(2, 3), (2, 2)]),
    "index_fill": Case(lambda t, a: a.index_fill(1, t.tensor([1]), -2.0),
                       call=lambda a: a.index_fill(1, cr.tensor([1]), -2.0), shapes=[(2, 3)]),
    "addcmul-broadcast": Case(lambda t, c, a, b: t.addcmul(c, a, b), call=lambda c, a, b: cr.addcmul(c, a, b),
                              shapes=[(2, 1), (3,), (2, 3)]),
    "diff": Case(lambda t, a, b: t.diff(a, n=2, dim=1, prepend=b), call=lambda a, b: cr.diff(a, n=2, dim=1, prepend=b),
                 shapes=[(2, 4), (2, 1)]),
    "cummax": Case(lambda t, a: a.cummax(1).values, call=lambda a: a.cummax(1).values, shapes=[(2, 4)]),
    "cummin": Case(lambda t, a: t.cummin(a, 0).values, call=lambda a: cr.cummin(a, 0).values, shapes=[(3, 2)]),
    "kthvalue": Case(lambda t, a: a.kthvalue(2, 0, keepdim=True).values,
                     call=lambda a: a.kthvalue(2, 0, keepdim=True).values, shapes=[(4, 3)]),
    "msort": Case(lambda t, a: t.msort(a), call=lambda a: cr.msort(a), shapes=[(3, 2)]),
    "dist": Case(lambda t, a, b: t.dist(a, b, 3), call=lambda a, b: cr.dist(a, b, 3), shapes=[(2, 3), (3,)]),
    "cov": Case(lambda t, a: t.cov(a), call=lambda a: cr.cov(a), shapes=[(2, 4)]),
    "cov-weights": Case(lambda t, a, w: t.cov(a, fweights=t.tensor([1, 2, 1]), aweights=w * w + 0.5, correction=0),
                        call=lambda a, w: cr.cov(a, fweights=cr.tensor([1, 2, 1]), aweights=w * w + 0.5, correction=0),
                        shapes=[(2, 3), (3,)]),
    "corrcoef": Case(lambda t, a: t.corrcoef(a), call=lambda a: cr.corrcoef(a), shapes=[(2, 5)]),
    "matrix_power": Case(lambda t, a: t.matrix_power(a, 3), call=lambda a: cr.matrix_power(a, 3), shapes=[(2, 2, 2)]),
    "matrix_power-negative": Case(lambda t, a: t.matrix_power(a + 3 * t.eye(2, dtype=a.dtype), -2),
                                  call=lambda a: cr.matrix_power(a + 3 * cr.eye(2, dtype=a.dtype), -2),
                                  shapes=[(2, 2)]),
    "chain_matmul": Case(lambda t, a, b, c: t.linalg.multi_dot([a, b, c]),
                         call=lambda a, b, c: cr.chain_matmul(a, b, c), shapes=[(2, 3), (3, 2), (2, 2)]),
    "addbmm": Case(lambda t, c, a, b: t.addbmm(c, a, b, beta=0.5), call=lambda c, a, b: cr.addbmm(c, a, b, beta=0.5),
                   shapes=[(2, 2), (3, 2, 3), (3, 3, 2)]),
    "tensordot": Case(lambda t, a, b: t.tensordot(a, b, ([0, 2], [1, 0])),
                      call=lambda a, b: cr.tensordot(a, b, ([0, 2], [1, 0])), shapes=[(2, 3, 2), (2, 2, 3)]),
    "rot90": Case(lambda t, a: t.rot90(a, 3, (0, 2)), call=lambda a: cr.rot90(a, 3, (0, 2)), shapes=[(2, 3, 2)]),
    "diag_embed": Case(lambda t, a: t.diag_embed(a, 1, 0, 2), call=lambda a: cr.diag_embed(a, 1, 0, 2),
                       shapes=[(2, 3)]),
    "block_diag": Case(lambda t, a, b: t.block_diag(a, b), call=lambda a, b: cr.block_diag(a, b),
                       shapes=[(2, 3), (2,)]),
    "cartesian_prod": Case(lambda t, a, b: t.cartesian_prod(a, b), call=lambda a, b: cr.cartesian_prod(a, b),
                           shapes=[(2,), (3,)]),
    "column_stack": Case(lambda t, a, b: t.column_stack([a, b]), call=lambda a, b: cr.column_stack([a, b]),
                         shapes=[(3,), (3, 2)]),
    "tensor_split": Case(lambda t, a: t.tensor_split(a, 3, 1)[0], call=lambda a: cr.tensor_split(a, 3, 1)[0],
                         shapes=[(2, 5)]),
    "sinc": Case(lambda t, a: a.sinc(), call=lambda a: a.sinc()),
    "copysign": Case(lambda t, a, b: a.copysign(b), call=lambda a, b: a.copysign(b), arity=2, away=0.2),
    "deg2rad": Case(lambda t, a: t.deg2rad(a), call=lambda a: cr.deg2rad(a)),
    "float_power": Case(lambda t, a, b: t.float_power(a, b), call=lambda a, b: cr.float_power(a, b), arity=2, low=0.5),
    "rsub": Case(lambda t, a, b: t.rsub(a, b, alpha=2), call=lambda a, b: cr.rsub(a, b, alpha=2), arity=2),
    "ldexp": Case(lambda t, a: t.ldexp(a, t.tensor([1, 0, 3])), call=lambda a: cr.ldexp(a, cr.tensor([1, 0, 3])),
                  shapes=[(2, 3)]),
    "div-floor": Case(lambda t, a, b: t.div(a, b, rounding_mode="floor"),
                      call=lambda a, b: cr.div(a, b, rounding_mode="floor"), arity=2, away=0.5),
    "div-trunc": Case(lambda t, a, b: a.div(b, rounding_mode="trunc"),
                      call=lambda a, b: a.div(b, rounding_mode="trunc"), arity=2, away=0.5),
    "unfold": Case(lambda t, a: a.unfold(1, 2, 1), call=lambda a: a.unfold(1, 2, 1), shapes=[(2, 4)]),
    "masked_scatter": Case(lambda t, a, s: a.masked_scatter(t.tensor([[True, False, True]]), s),
                           call=lambda a, s: a.masked_scatter(cr.tensor([[True, False, True]]), s),
                           shapes=[(2, 3), (5,)]),
    "logdet": Case(lambda t, a: t.logdet(a + 3 * t.eye(3, dtype=a.dtype)),
                   call=lambda a: cr.logdet(a + 3 * cr.eye(3, dtype=a.dtype)), shapes=[(3, 3)]),
    "sum_to_size": Case(lambda t, a: a.sum_to_size(1, 3), call=lambda a: a.sum_to_size(1, 3), shapes=[(2, 3)]),
    "where-method": Case(lambda t, a, b: a.where(a > 0, b), call=lambda a, b: a.where(a > 0, b), arity=2, away=0.1),
}
for _reduce in ("sum", "mean", "amax", "amin"):
    for _self in (True, False):
        COMPOSITES[f"scatter_reduce-{_reduce}-{_self}"] = Case(
            lambda t, a, s, r=_reduce, i=_self: a.scatter_reduce(0, t.tensor([[0, 2], [0, 2], [2, 2]]), s, r,
                                                                   include_self=i),
            call=lambda a, s, r=_reduce, i=_self: a.scatter_reduce(0, cr.tensor([[0, 2], [0, 2], [2, 2]]), s, r,
                                                                    include_self=i),
            shapes=[(3, 2), (3, 2)], second=_reduce in ("sum", "mean"))


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_against_differences_and_torch(name):
    case = COMPOSITES[name]
    for seed in (0, 1):
        check_op(Composite(name), case, [tuple(s) for s in case.shapes] if not isinstance(case.shapes, str)
                 else [(2, 3)] * case.arity, seed)
