"""The ops-sweep names without a gradient (predicates, counts, buckets, histograms, draws), the
value-level rules of the differentiable ones (integer dtypes, NaN, ties, indices), the in-place
forms and the errors, each against torch 2.13 or a hand-computed value."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr

NAN, INF = float("nan"), float("inf")
SPECIAL = [1.5, -2.5, 0.5, NAN, INF, -INF, 0.0, -0.0, 2.5, 3.0]


def same(c, t, exact: bool = True):
    """Same values, shape and dtype name as the torch result."""
    cn, tn = c.numpy(), t.numpy()
    assert cn.shape == tn.shape, (cn.shape, tn.shape)
    assert str(cn.dtype) == str(tn.dtype).replace("torch.", "").replace("bool", "bool"), (cn.dtype, tn.dtype)
    if exact:
        np.testing.assert_array_equal(cn, tn)
    else:
        np.testing.assert_allclose(cn, tn, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"])
def test_predicates_as_torch(name):
    c, t = cr.tensor(SPECIAL), torch.tensor(SPECIAL)
    same(getattr(cr, name)(c), getattr(torch, name)(t))
    same(getattr(c, name)(), getattr(t, name)())


def test_predicates_on_integers_are_all_false_or_true():
    i = [1, -2, 3]
    same(cr.isnan(cr.tensor(i)), torch.isnan(torch.tensor(i)))
    same(cr.isfinite(cr.tensor(i)), torch.isfinite(torch.tensor(i)))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "frac", "nan_to_num", "erf", "exp2", "tan",
                                  "atan", "asinh", "sign"])
def test_values_at_specials_as_torch(name):
    c, t = cr.tensor(SPECIAL), torch.tensor(SPECIAL)
    with np.errstate(all="ignore"):
        same(getattr(c, name)(), getattr(t, name)(), exact=False)


def test_round_ties_to_even_and_decimals():
    v = [0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, 1234.5, 0.125, 0.375]
    for d in (0, 1, 2, -1, -2):
        same(cr.round(cr.tensor(v), decimals=d), torch.round(torch.tensor(v), decimals=d), exact=False)
    assert cr.tensor([2.5]).round().item() == 2.0  # not half away from zero


def test_rounding_keeps_integer_tensors_and_refuses_bool():
    i = [1, -3, 4]
    for name in ("floor", "ceil", "round", "trunc"):
        same(getattr(cr, name)(cr.tensor(i)), getattr(torch, name)(torch.tensor(i)))
    with pytest.raises(cr.DTypeError, match="floor"):
        cr.floor(cr.tensor([True]))
    with pytest.raises(cr.DTypeError, match="frac"):
        cr.frac(cr.tensor(i))
    with pytest.raises(cr.DTypeError, match="decimals"):
        cr.round(cr.tensor(i), decimals=1)


def test_fmod_and_remainder_signs_and_integer_zero():
    a, b = [5.5, -5.5, 5.5, -5.5, 3.0], [2.0, 2.0, -2.0, -2.0, 1.5]
    for name in ("fmod", "remainder"):
        same(getattr(cr, name)(cr.tensor(a), cr.tensor(b)), getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
        same(getattr(cr, name)(cr.tensor([7, -7]), 3), getattr(torch, name)(torch.tensor([7, -7]), 3))
        same(getattr(cr.tensor([7, -7]), name)(2.5), getattr(torch.tensor([7, -7]), name)(2.5))
        with pytest.raises(cr.ArgumentError, match=f"{name}: integer division by zero"):
            getattr(cr, name)(cr.tensor([7, 1]), cr.tensor([1, 0]))


def test_float_results_of_integer_inputs_are_float32():
    i, j = cr.tensor([1, 2]), torch.tensor([1, 2])
    for name in ("tan", "asin", "atan", "erf", "erfinv", "exp2", "logit"):
        with np.errstate(all="ignore"):
            same(getattr(cr, name)(i), getattr(torch, name)(j), exact=False)
    same(cr.atan2(i, i), torch.atan2(j, j), exact=False)
    same(cr.xlogy(i, i), torch.xlogy(j, j), exact=False)
    with pytest.raises(cr.DTypeError, match="logaddexp"):
        cr.logaddexp(i, i)


def test_erfinv_is_exact_at_both_precisions_and_the_edges():
    p = [-1.0, -0.999999, -0.9, -0.3, 0.0, 1e-8, 0.5, 0.99, 0.9999999, 1.0, 1.5, NAN]
    same(cr.erfinv(cr.tensor(p, dtype=cr.float64)), torch.erfinv(torch.tensor(p, dtype=torch.float64)), exact=False)
    c, t = cr.erfinv(cr.tensor(p)).numpy(), torch.erfinv(torch.tensor(p)).numpy()
    np.testing.assert_allclose(c, t, rtol=3e-7)
    x = np.linspace(-0.999, 0.999, 101)
    np.testing.assert_allclose([math.erf(v) for v in cr.erfinv(cr.tensor(x)).numpy()], x, rtol=0, atol=1e-15)


def test_xlogy_zero_times_log_zero_and_nan():
    a, b = [0.0, 0.0, 1.0, 0.0, 2.0], [0.0, -1.0, 0.0, NAN, 3.0]
    same(cr.xlogy(cr.tensor(a), cr.tensor(b)), torch.xlogy(torch.tensor(a), torch.tensor(b)), exact=False)
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor([0.0, -1.0, 1.0, 2.0, 3.0], requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor([0.0, -1.0, 1.0, 2.0, 3.0], requires_grad=True)
    cr.xlogy(ca, cb).sum().backward()
    torch.xlogy(ta, tb).sum().backward()
    np.testing.assert_array_equal(ca.grad.numpy(), ta.grad.numpy())  # 0 (not NaN) at a == 0, b <= 0


def test_nan_to_num_options_and_gradient():
    v = [NAN, INF, -INF, 1.0]
    same(cr.nan_to_num(cr.tensor(v), nan=1.0, posinf=2.0, neginf=-2.0),
         torch.nan_to_num(torch.tensor(v), nan=1.0, posinf=2.0, neginf=-2.0))
    same(cr.tensor(v, dtype=cr.float64).nan_to_num(), torch.tensor(v, dtype=torch.float64).nan_to_num())
    x = cr.tensor(v, requires_grad=True)
    x.nan_to_num().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 1])


def test_fmax_fmin_skip_nan_and_give_ties_to_the_first():
    a, b = [NAN, 1.0, 2.0, NAN], [1.0, NAN, 2.0, NAN]
    for name in ("fmax", "fmin"):
        ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out_c, out_t = getattr(cr, name)(ca, cb), getattr(torch, name)(ta, tb)
        same(out_c.detach(), out_t.detach())
        out_c.sum().backward()
        out_t.sum().backward()
        np.testing.assert_array_equal(ca.grad.numpy(), ta.grad.numpy())
        np.testing.assert_array_equal(cb.grad.numpy(), tb.grad.numpy())


def test_steps_have_zero_gradient_even_for_an_infinite_upstream():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    (x.floor() * INF).sum().backward()  # d/dx of floor is 0; 0 * inf must not appear
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_straight_through_round_trains():
    x, t = cr.tensor([0.3, 1.7], requires_grad=True), torch.tensor([0.3, 1.7], requires_grad=True)
    ((x.round() - x).detach() + x).pow(2).sum().backward()
    ((t.round() - t).detach() + t).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


# ------------------------------------------------------------------ counts, buckets, histograms
def test_count_nonzero():
    v = [[0, 1, 2], [0, 0, 3]]
    same(cr.count_nonzero(cr.tensor(v)), torch.count_nonzero(torch.tensor(v)))
    same(cr.tensor(v).count_nonzero(dim=1), torch.tensor(v).count_nonzero(dim=1))
    same(cr.count_nonzero(cr.tensor(v), dim=(0, 1)), torch.count_nonzero(torch.tensor(v), dim=(0, 1)))


def test_bucketize_and_searchsorted():
    bounds, vals = [1.0, 3.0, 5.0, 7.0], [[0.0, 1.0, 3.0], [6.0, 7.0, 9.0]]
    for right in (False, True):
        same(cr.bucketize(cr.tensor(vals), cr.tensor(bounds), right=right),
             torch.bucketize(torch.tensor(vals), torch.tensor(bounds), right=right))
        same(cr.searchsorted(cr.tensor(bounds), cr.tensor(vals), right=right),
             torch.searchsorted(torch.tensor(bounds), torch.tensor(vals), right=right))
    rows = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    same(cr.searchsorted(cr.tensor(rows), cr.tensor([[3.0, 6.0], [1.0, 4.0]]), side="right"),
         torch.searchsorted(torch.tensor(rows), torch.tensor([[3.0, 6.0], [1.0, 4.0]]), side="right"))
    same(cr.bucketize(cr.tensor([2.0]), cr.tensor(bounds), out_int32=True),
         torch.bucketize(torch.tensor([2.0]), torch.tensor(bounds), out_int32=True))
    with pytest.raises(cr.ShapeError, match="bucketize: boundaries must be 1-D"):
        cr.bucketize(cr.tensor(vals), cr.tensor(rows))
    with pytest.raises(cr.ShapeError, match="searchsorted"):
        cr.searchsorted(cr.tensor(rows), cr.tensor([[1.0], [2.0], [3.0]]))


@pytest.mark.parametrize("kw", [dict(bins=4), dict(bins=3, range=(0.0, 6.0)), dict(bins=4, density=True),
                                dict(bins=4, weight=True)])
def test_histogram_as_torch(kw):
    v = [1.0, 2.0, 2.0, 3.5, 5.0, 0.5]
    if kw.get("weight"):
        kw = dict(kw, weight=[1.0, 2.0, 0.5, 1.0, 1.0, 3.0])
    ck = {k: cr.tensor(w) if k == "weight" else w for k, w in kw.items()}
    tk = {k: torch.tensor(w) if k == "weight" else w for k, w in kw.items()}
    hc, ec = cr.histogram(cr.tensor(v), **ck)
    ht, et = torch.histogram(torch.tensor(v), **tk)
    same(hc, ht, exact=False)
    same(ec, et, exact=False)
    edges = [0.0, 1.0, 2.5, 6.0]
    same(cr.histogram(cr.tensor(v), cr.tensor(edges)).hist, torch.histogram(torch.tensor(v), torch.tensor(edges)).hist)
    one = [2.0, 2.0]
    same(cr.histogram(cr.tensor(one), bins=4).bin_edges, torch.histogram(torch.tensor(one), bins=4).bin_edges)


# ------------------------------------------------------------------ order statistics
def test_median_is_the_lower_middle_and_ties_share_its_gradient():
    v = [3.0, 1.0, 2.0, 2.0, 5.0, 2.0]
    c, t = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    same(c.median().detach(), t.median().detach())
    c.median().backward()
    t.median().backward()
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy())  # 1/3 to each of the three 2s
    same(cr.median(cr.tensor([4.0, 1.0, 3.0, 2.0])), torch.median(torch.tensor([4.0, 1.0, 3.0, 2.0])))


def test_median_and_nanmedian_with_nan():
    v = [[1.0, NAN, 2.0, 0.5], [NAN, NAN, NAN, NAN], [3.0, 1.0, 2.0, 0.0]]
    c, t = cr.tensor(v), torch.tensor(v)
    same(c.median(), t.median())
    same(c[0].nanmedian(), t[0].nanmedian())
    for fn in ("median", "nanmedian"):
        rc, rt = getattr(c, fn)(1), getattr(t, fn)(1)
        same(rc.values, rt.values)
        same(rc.indices[::2], rt.indices[::2])  # (an all-NaN row's index PyTorch leaves unspecified)


def test_median_indices_point_at_the_values():
    x = cr.tensor(np.random.default_rng(0).integers(0, 4, (5, 7)).astype(np.float32))
    values, indices = cr.median(x, 1, keepdim=True)
    np.testing.assert_array_equal(np.take_along_axis(x.numpy(), indices.numpy(), 1), values.numpy())
    ref = torch.median(torch.tensor(x.numpy()), 1, keepdim=True).values
    np.testing.assert_array_equal(values.numpy(), ref.numpy())


def test_mode_picks_the_smallest_tied_value_and_its_last_index():
    v = [[1, 2, 2, 1, 3], [4, 4, 5, 5, 0], [7, 7, 7, 1, 1]]
    rc, rt = cr.mode(cr.tensor(v), 1), torch.mode(torch.tensor(v), 1)
    same(rc.values, rt.values)
    same(rc.indices, rt.indices)
    rc, rt = cr.tensor(v).mode(0, keepdim=True), torch.tensor(v).mode(0, keepdim=True)
    same(rc.values, rt.values)
    same(rc.indices, rt.indices)


def test_quantile_nan_and_bad_arguments():
    v = [[1.0, NAN, 3.0, 4.0], [2.0, 1.0, 0.0, 5.0], [NAN, NAN, NAN, NAN]]
    q = torch.tensor([0.0, 0.3, 1.0])
    same(cr.quantile(cr.tensor(v), cr.tensor(q.numpy()), dim=1), torch.quantile(torch.tensor(v), q, dim=1),
         exact=False)
    same(cr.nanquantile(cr.tensor(v), cr.tensor(q.numpy()), dim=1, keepdim=True),
         torch.nanquantile(torch.tensor(v), q, dim=1, keepdim=True), exact=False)
    same(cr.quantile(cr.tensor(v[1]), 0.5, keepdim=True), torch.quantile(torch.tensor(v[1]), 0.5, keepdim=True))
    with pytest.raises(ValueError, match=r"quantile: q values must lie in \[0, 1\]"):
        cr.quantile(cr.tensor(v), 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        cr.quantile(cr.tensor(v), 0.5, interpolation="cubic")
    with pytest.raises(cr.DTypeError, match="quantile"):
        cr.quantile(cr.tensor([1, 2]), 0.5)


def test_nansum_and_nanmean_skip_nan_with_zero_gradient_there():
    v = [[1.0, NAN, 3.0], [NAN, NAN, NAN]]
    c, t = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    same(c.nansum().detach(), t.nansum().detach())
    same(c.nanmean(1).detach(), t.nanmean(1).detach())
    c.nanmean(0).nansum().backward()
    t.nanmean(0).nansum().backward()
    np.testing.assert_array_equal(c.grad.numpy()[:, ::2], t.grad.numpy()[:, ::2])
    # an all-NaN column: 0 at its NaNs (the selecting rule), where PyTorch's multiply gives 0·inf = NaN
    np.testing.assert_array_equal(c.grad.numpy()[:, 1], [0.0, 0.0])
    same(cr.nansum(cr.tensor([1, 2])), torch.nansum(torch.tensor([1, 2])))


# ------------------------------------------------------------------ products and rearranging: the errors
@pytest.mark.parametrize("call, match", [
    (lambda: cr.mm(cr.ones(2, 3, 4), cr.ones(4, 2)), r"mm: expects a matrix \(2-D\) and a matrix"),
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(4, 2)), r"matmul: shapes \(2, 3\) and \(4, 2\)"),
    (lambda: cr.mv(cr.ones(2, 3), cr.ones(3, 1)), "mv: expects"),
    (lambda: cr.dot(cr.ones(3), cr.ones(4)), "dot: the vectors have different lengths"),
    (lambda: cr.trace(cr.ones(3)), "trace: expects a matrix"),
    (lambda: cr.cross(cr.ones(2, 2), cr.ones(2, 2)), "cross: no dimension of size 3"),
    (lambda: cr.cross(cr.ones(3, 2), cr.ones(3, 2), dim=1), "cross: dim 1 must have size 3"),
    (lambda: cr.cdist(cr.ones(3, 2), cr.ones(3, 4)), "cdist: expects"),
    (lambda: cr.take(cr.ones(2, 2), cr.tensor([4])), "take: index values 4..4 are out of range"),
    (lambda: cr.take_along_dim(cr.ones(2, 2), cr.tensor([[2]]), 1), "take_along_dim: index values"),
    (lambda: cr.movedim(cr.ones(2, 2), (0, 1), 0), "movedim: 2 source dims and 1 destinations"),
    (lambda: cr.unflatten(cr.ones(2, 6), 1, (4, -1)), r"unflatten: sizes \(4, -1\) do not split dim 1 of size 6"),
    (lambda: cr.tile(cr.ones(2), (-1,)), "tile: repetitions must not be negative"),
    (lambda: cr.index_add(cr.ones(3, 2), 0, cr.tensor([0, 5]), cr.ones(2, 2)), "index_add: index values 0..5"),
    (lambda: cr.index_add(cr.ones(3, 2), 0, cr.tensor([0]), cr.ones(2, 2)), r"index_add: source has shape \(2, 2\)"),
    (lambda: cr.index_copy(cr.ones(3), 0, cr.tensor([1, 1]), cr.ones(2)), "index_copy: the index repeats"),
    (lambda: cr.bernoulli(cr.tensor([1.5])), r"bernoulli: probabilities must lie in \[0, 1\]"),
    (lambda: cr.histogram(cr.tensor([1.0, NAN])), "histogram: the values hold NaN or inf"),
])
def test_bad_arguments_name_the_op(call, match):
    with pytest.raises(ValueError if "lie in" in match or "hold NaN" in match else cr.ChainruleError, match=match):
        call()


def test_no_grad_results_carry_no_graph():
    x = cr.tensor([1.0, NAN], requires_grad=True)
    for out in (x.isnan(), cr.count_nonzero(x), cr.bucketize(x, cr.tensor([0.0, 2.0])),
                cr.histogram(x.detach(), 3, range=(0.0, 2.0))[0]):
        assert out.grad_fn is None and not out.requires_grad


# ------------------------------------------------------------------ in-place forms
INPLACE = [
    ("floor_", ()), ("ceil_", ()), ("round_", ()), ("trunc_", ()), ("frac_", ()), ("sign_", ()), ("tan_", ()),
    ("erf_", ()), ("exp2_", ()), ("atan_", ()), ("fmod_", (1.5,)), ("remainder_", (-1.5,)),
    ("clamp_min_", (0.0,)), ("clamp_max_", (0.5,)), ("nan_to_num_", ()),
]


@pytest.mark.parametrize("name,args", INPLACE)
def test_in_place_forms_change_the_tensor_as_torch(name, args):
    v = [1.25, -2.75, 0.5, 3.5]
    c, t = cr.tensor(v), torch.tensor(v)
    alias = c[1:]  # a view: an in-place op changes the memory it shares
    assert getattr(c, name)(*args) is c
    getattr(t, name)(*args)
    same(c, t, exact=False)
    np.testing.assert_array_equal(alias.numpy(), c.numpy()[1:])


def test_in_place_forms_with_tensor_arguments():
    c, t = cr.zeros(3, 2), torch.zeros(3, 2)
    c.index_add_(0, cr.tensor([0, 2, 0]), cr.ones(3, 2), alpha=2.0)
    t.index_add_(0, torch.tensor([0, 2, 0]), torch.ones(3, 2), alpha=2.0)
    same(c, t)
    c.masked_fill_(c > 2, -1.0)
    t.masked_fill_(t > 2, -1.0)
    same(c, t)
    c.index_fill_(1, cr.tensor([1]), 7.0)
    t.index_fill_(1, torch.tensor([1]), 7.0)
    same(c, t)
    c.scatter_(0, cr.tensor([[1, 0]]), 5.0)
    t.scatter_(0, torch.tensor([[1, 0]]), 5.0)
    same(c, t)
    c.addcmul_(cr.ones(3, 2), cr.full((3, 2), 2.0), value=0.5).addcdiv_(cr.ones(3, 2), cr.full((2,), 4.0))
    t.addcmul_(torch.ones(3, 2), torch.full((3, 2), 2.0), value=0.5).addcdiv_(torch.ones(3, 2), torch.full((2,), 4.0))
    same(c, t)


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = cr.ones(3, requires_grad=True)
    for call in (lambda: w.floor_(), lambda: w.addcmul_(w, w), lambda: w.unsqueeze_(0)):
        with pytest.raises(cr.AutogradError, match="leaf tensor that requires grad"):
            call()
    with cr.no_grad():
        w.mul_(2.5).floor_()
    np.testing.assert_array_equal(w.numpy(), [2.0, 2.0, 2.0])


def test_in_place_gradients_as_torch():
    v = [0.3, -1.2, 2.0]
    cw, tw = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    for w in (cw, tw):
        h = w * 2
        h.addcmul_(w, w, value=0.5).fmod_(1.1).tan_()
        h.sum().backward()
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_shape_changing_in_place_forms():
    c, t = cr.ones(2, 3), torch.ones(2, 3)
    c.unsqueeze_(0)
    t.unsqueeze_(0)
    assert c.shape == t.shape
    c.transpose_(0, 2).squeeze_()
    t.transpose_(0, 2).squeeze_()
    assert c.shape == t.shape and c.stride() == t.stride()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.unsqueeze_(1)
    assert y.shape == (2, 1)
    (y * cr.tensor([[1.0], [2.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])


def test_random_fills():
    g = cr.Generator().manual_seed(0)
    x = cr.zeros(2000)
    x.bernoulli_(0.25, generator=g)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and 0.2 < x.numpy().mean() < 0.3
    x.exponential_(2.0, generator=g)
    assert x.numpy().min() >= 0 and 0.45 < x.numpy().mean() < 0.55
    x.random_(3, 7, generator=g)
    assert set(np.unique(x.numpy())) == {3.0, 4.0, 5.0, 6.0}
    x.random_(5)
    assert set(np.unique(x.numpy())) == {0.0, 1.0, 2.0, 3.0, 4.0}
    i = cr.zeros(50, dtype=cr.int64)
    i.geometric_(0.5)
    assert i.numpy().min() >= 1
    p = cr.rand(1000, generator=g)
    draws = cr.bernoulli(p, generator=g)
    assert draws.dtype == cr.float32 and 0.4 < draws.numpy().mean() < 0.6
    with pytest.raises(cr.DTypeError, match="exponential_"):
        i.exponential_()
    with pytest.raises(ValueError, match="random_: expects from < to"):
        x.random_(5, 2)


def test_module_level_in_place_functions_exist_where_torch_has_them():
    for name in ("relu_", "zero_", "fill_", "floor_", "round_", "sigmoid_", "clamp_", "exp_"):
        assert hasattr(torch, name) and hasattr(cr, name), name
    x = cr.tensor([-1.0, 2.0])
    assert cr.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert not hasattr(cr, "index_add_") and not hasattr(torch, "index_add_")


def test_stride_and_H():
    c, t = cr.ones(2, 3), torch.ones(2, 3)
    assert c.stride() == t.stride() and c.stride(1) == t.stride(1)
    assert c.T.stride() == t.T.stride()
    assert c.H.shape == t.H.shape
    with pytest.raises(cr.ShapeError, match="H is only for matrices"):
        _ = cr.ones(2, 2, 2).H


# ------------------------------------------------------------------ second batch: aliases, shapes, cumulative, linalg
def _agree(c, t):
    if isinstance(t, (tuple, list)):
        assert isinstance(c, (tuple, list)) and len(c) == len(t), (c, t)
        for a, b in zip(c, t):
            _agree(a, b)
        return
    same(c, t, exact=False)


A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
V = [1.0, 2.0, 3.0]


@pytest.mark.parametrize("name, args", [
    ("atleast_1d", lambda L: (L.tensor(1.0),)), ("atleast_2d", lambda L: (L.tensor(V),)),
    ("atleast_3d", lambda L: (L.tensor(V),)), ("atleast_3d", lambda L: (L.tensor(A[0]),)),
    ("column_stack", lambda L: ([L.tensor(V), L.tensor(V)],)), ("row_stack", lambda L: ([L.tensor(V), L.tensor(V)],)),
    ("dstack", lambda L: ([L.tensor(V), L.tensor(V)],)), ("tensor_split", lambda L: (L.tensor(A), 3, 2)),
    ("tensor_split", lambda L: (L.tensor(A), [1, 5], 2)), ("hsplit", lambda L: (L.tensor(A), 3)),
    ("vsplit", lambda L: (L.tensor(A), 2)), ("dsplit", lambda L: (L.tensor(A), [1, 3])),
    ("rot90", lambda L: (L.tensor(A), -1, (1, 2))), ("rot90", lambda L: (L.tensor(A), 2, (2, 0))),
    ("fliplr", lambda L: (L.tensor(A),)), ("flipud", lambda L: (L.tensor(A),)),
    ("diag_embed", lambda L: (L.tensor(A), -1)), ("diagflat", lambda L: (L.tensor(A[0]), 2)),
    ("block_diag", lambda L: (L.tensor(A[0]), L.tensor(V), L.tensor(5.0))),
    ("cartesian_prod", lambda L: (L.tensor(V), L.tensor(V[:2]), L.tensor([7.0]))),
    ("tril_indices", lambda L: (3, 4, 1)), ("triu_indices", lambda L: (4, 3, -1)),
    ("tensordot", lambda L: (L.tensor(A), L.tensor(A), ([1, 2], [1, 2]))),
    ("broadcast_tensors", lambda L: (L.tensor(A[0, :, :1]), L.ones(1, 5))), ("ravel", lambda L: (L.tensor(A),)),
    ("heaviside", lambda L: (L.tensor([-1.0, 0.0, 2.0]), L.tensor([0.5]))),
    ("float_power", lambda L: (L.tensor(V), 2)), ("sgn", lambda L: (L.tensor([-2.0, 0.0, NAN]),)),
    ("msort", lambda L: (L.tensor(A[0]),)),
])
def test_shapes_and_values_as_torch(name, args):
    _agree(getattr(cr, name)(*args(cr)), getattr(torch, name)(*args(torch)))


def test_broadcast_shapes():
    assert cr.broadcast_shapes((2, 1), (3,)) == torch.broadcast_shapes((2, 1), (3,))
    with pytest.raises(cr.ShapeError, match="broadcast_shapes"):
        cr.broadcast_shapes((2,), (3,))


def test_div_rounding_modes_on_integers_and_floats():
    a, b = [7, -7, 5, -6], [2, 2, -3, 3]
    for mode in ("trunc", "floor"):
        same(cr.div(cr.tensor(a), cr.tensor(b), rounding_mode=mode),
             torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode))
        same(cr.tensor([7.5, -7.5]).div(2, rounding_mode=mode), torch.tensor([7.5, -7.5]).div(2, rounding_mode=mode))
        with pytest.raises(cr.ArgumentError, match="integer division by zero"):
            cr.divide(cr.tensor(a), 0, rounding_mode=mode)
    same(cr.div(cr.tensor(a), cr.tensor(b)), torch.div(torch.tensor(a), torch.tensor(b)), exact=False)
    with pytest.raises(cr.ArgumentError, match="rounding_mode must be"):
        cr.div(cr.tensor(a), 2, rounding_mode="round")


def test_cummax_cummin_indices_with_ties_and_nan():
    v = [[1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN], [4.0, 4.0, 1.0, 1.0, 0.0, 7.0, 7.0]]
    for name in ("cummax", "cummin"):
        rc, rt = getattr(cr, name)(cr.tensor(v), 1), getattr(torch, name)(torch.tensor(v), 1)
        same(rc.values, rt.values)
        same(rc.indices, rt.indices)
    rc, rt = cr.cummax(cr.tensor([[3, 1], [2, 5]]), 0), torch.cummax(torch.tensor([[3, 1], [2, 5]]), 0)
    same(rc.values, rt.values)
    same(rc.indices, rt.indices)


def test_kthvalue_and_diff():
    v = [[3.0, 1.0, 4.0, 1.5], [2.0, 7.0, 1.0, 8.0]]
    for k in (1, 3):
        rc, rt = cr.kthvalue(cr.tensor(v), k, 1), torch.kthvalue(torch.tensor(v), k, 1)
        same(rc.values, rt.values)
        same(rc.indices, rt.indices)
    with pytest.raises(cr.ShapeError, match="kthvalue: k=5 is out of range"):
        cr.kthvalue(cr.tensor(v), 5)
    same(cr.diff(cr.tensor([1, 4, 9, 16]), 2), torch.diff(torch.tensor([1, 4, 9, 16]), 2))
    same(cr.diff(cr.tensor(v), dim=0, append=cr.tensor([[0.0] * 4])),
         torch.diff(torch.tensor(v), dim=0, append=torch.tensor([[0.0] * 4])))


def test_singular_matrices_and_square_checks():
    with pytest.raises(cr.ChainruleError, match="inverse"):
        cr.inverse(cr.ones(2, 2))
    with pytest.raises(cr.ShapeError, match=r"det: expects square matrices"):
        cr.det(cr.ones(2, 3))
    with pytest.raises(cr.DTypeError, match="inverse: needs a floating-point tensor"):
        cr.inverse(cr.tensor([[1, 0], [0, 1]]))
    same(cr.det(cr.ones(2, 2)), torch.det(torch.ones(2, 2)))  # the value of a singular det is fine (0)
    same(cr.matrix_power(cr.tensor(A[0, :, :3]), 0), torch.matrix_power(torch.tensor(A[0, :, :3]), 0))


def test_ldexp_with_a_negative_exponent_is_exact():
    """PyTorch computes 2**other in the exponent's integer dtype, so ldexp(x, -2) is x·0 there; here x/4."""
    np.testing.assert_array_equal(cr.ldexp(cr.tensor([8.0]), cr.tensor([-2])).numpy(), [2.0])


def test_scatter_reduce_ties_share_the_gradient_as_torch():
    src, idx, g = [1.0, 4.0, 3.0, 4.0, 2.0], [0, 1, 0, 1, 2], [1.0, 2.0, 3.0]
    for reduce in ("amax", "amin"):
        for include_self in (True, False):
            cx, cs = cr.tensor([0.5, 4.0, 9.0], requires_grad=True), cr.tensor(src, requires_grad=True)
            tx, ts = torch.tensor([0.5, 4.0, 9.0], requires_grad=True), torch.tensor(src, requires_grad=True)
            oc = cx.scatter_reduce(0, cr.tensor(idx), cs, reduce, include_self=include_self)
            ot = tx.scatter_reduce(0, torch.tensor(idx), ts, reduce, include_self=include_self)
            same(oc.detach(), ot.detach())
            (oc * cr.tensor(g)).sum().backward()
            (ot * torch.tensor(g)).sum().backward()
            np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
            np.testing.assert_allclose(cs.grad.numpy(), ts.grad.numpy(), rtol=1e-6)
    with pytest.raises(cr.ArgumentError, match="reduce='prod' is not supported"):
        cr.scatter_reduce(cr.zeros(3), 0, cr.tensor(idx), cr.tensor(src), "prod")


def test_unique_consecutive_as_torch():
    v = [1, 1, 2, 2, 3, 1, 1]
    _agree(cr.unique_consecutive(cr.tensor(v), return_inverse=True, return_counts=True),
           torch.unique_consecutive(torch.tensor(v), return_inverse=True, return_counts=True))
    m = [[1, 2], [1, 2], [0, 5], [1, 2]]
    _agree(cr.unique_consecutive(cr.tensor(m), return_counts=True, dim=0),
           torch.unique_consecutive(torch.tensor(m), return_counts=True, dim=0))


def test_small_queries_and_attributes_as_torch():
    c, t = cr.ones(2, 3), torch.ones(2, 3)
    assert c.itemsize == t.itemsize and c.nbytes == t.nbytes and c.is_cpu and c.mH.shape == t.mH.shape
    assert c[1:].storage_offset() == t[1:].storage_offset() == 3
    assert c.data_ptr() == c[:1].data_ptr() and c.data_ptr() != c.clone().data_ptr()
    assert cr.is_nonzero(cr.tensor([2])) and not cr.is_nonzero(cr.tensor(0.0))
    assert cr.is_same_size(c, c) and not cr.is_same_size(c, c.T)
    assert cr.is_signed(c) and not cr.is_signed(cr.tensor([1], dtype=cr.uint8)) and not c.is_complex()
    assert c.conj() is c and c.real is c and c.share_memory_() is c
    _agree(cr.slogdet(cr.tensor([[2.0, 1.0], [0.0, -3.0]])), torch.slogdet(torch.tensor([[2.0, 1.0], [0.0, -3.0]])))
    same(cr.tensor([1, 1, 3]).bincount(), torch.tensor([1, 1, 3]).bincount())
    x = cr.tensor([1.0, -2.0])
    x.eq_(1.0)
    assert x.tolist() == [1.0, 0.0]
    with pytest.raises(cr.ShapeError, match="is_nonzero"):
        cr.is_nonzero(c)
    with pytest.raises(cr.ShapeError, match="unfold: size 5"):
        c.unfold(1, 5, 1)


def test_unique_along_a_dim_and_div_in_place_with_rounding():
    m = [[1, 2], [1, 2], [0, 5]]
    for dim in (0, 1):
        _agree(cr.unique(cr.tensor(m), dim=dim, return_inverse=True, return_counts=True),
               torch.unique(torch.tensor(m), dim=dim, return_inverse=True, return_counts=True))
    c, t = cr.tensor([7.0, -7.0]), torch.tensor([7.0, -7.0])
    c.div_(2, rounding_mode="floor")
    t.div_(2, rounding_mode="floor")
    same(c, t)
