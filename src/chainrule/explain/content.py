"""What the explanation says, as a list of blocks; ``text.py`` and ``html.py`` only lay them out.

Blocks are tuples whose first item names the kind:

    ("title", s)  ("subtitle", s)  ("para", s, style)  ("kv", [(key, value)])  ("section", n, s)
    ("h3", s)  ("example", s)  ("line", s, style)  ("blank",)
    ("pairs", [(left_parts, right)])   a formula and its result side by side (z … = v   a = σ(z) = …)
    ("chain", lhs, [parts, parts, …], mark)   lhs = parts₀ / = parts₁ / …, aligned on "="
    ("expr", lead, parts, tail)        one long formula that may wrap between parts
    ("table", header, rows, groups[, optional])  groups: row counts between rules (one per layer);
                                       optional: columns a narrow terminal may leave out
    ("verdict", s, ok)
    ("image", pixels (H, W), marked (row, col) or None)   an input image (--checkpoint on image data)
"""
from __future__ import annotations

import numpy as np

from .derivation import Derivation, agrees
from .i18n import act_name, tr
from .notation import a_sym, b_sym, cell, num, pad, param_sym, paren, sub, sup, w_sym, width, z_sym

TOP = 8  # terms and neurons shown per sum or layer when one weight of a large network is explained


class Tip(str):
    """A table cell's text that also knows where its number came from (the page shows it on hover)."""

    def __new__(cls, text: str, tip: str):
        self = super().__new__(cls, text)
        self.tip = tip
        return self


def vec(v) -> str:
    return "(" + ", ".join(num(x) for x in v) + ")"


def _ok(a, b, d: Derivation) -> bool:
    return agrees(a, b, d.atol, d.rtol)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _joined(terms: list[str]) -> list[str]:
    return [(" + " if k else "") + s for k, s in enumerate(terms)]


def _params(d: Derivation):
    """(layer index, "weight"|"bias", index) of every parameter: weights then biases, layer by layer."""
    for ell, ly in enumerate(d.layers):
        for idx in np.ndindex(ly.weight.shape):
            yield ell, "weight", idx
        for idx in np.ndindex(ly.bias.shape):
            yield ell, "bias", idx


def _groups(d: Derivation) -> list[int]:
    return [ly.weight.size + ly.bias.size for ly in d.layers]


def _three(t, kind: str, idx) -> tuple[float, float, float]:
    """(derivation, autograd, numeric) gradient of one parameter from a trace or the totals."""
    key = "dl_dw" if kind == "weight" else "dl_db"
    return tuple(float(getattr(t, key + s)[idx]) for s in ("", "_autograd", "_numeric"))


class Counter:
    """Counts the gradients checked three ways, and those that disagree."""

    def __init__(self):
        self.bad = self.total = 0

    def check(self, g, ga, gn, d: Derivation) -> bool:
        ok = _ok(g, ga, d) and _ok(g, gn, d)
        self.total += 1
        self.bad += not ok
        return ok


# ----------------------------------------------------------------- header

def header(d: Derivation, lang: str, title_key: str = "title") -> list:
    sizes = [d.layers[0].weight.shape[1]] + [ly.weight.shape[0] for ly in d.layers]
    n_params = sum(ly.weight.size + ly.bias.size for ly in d.layers)
    blocks = [("title", tr(title_key, lang)), ("subtitle", tr("subtitle", lang)), ("kv", [
        (tr("network", lang), " → ".join(map(str, sizes)) + f"   ({n_params} {tr('parameters', lang)})"),
        (tr("activation", lang), ", ".join(act_name(ly.activation, lang) for ly in d.layers)),
        (tr("loss", lang), tr(f"loss_{d.loss}", lang)),
        (tr("examples", lang), f"N = {len(d.examples)}"),
        (tr("lr", lang), f"η = {num(d.step.lr)}"),
    ])]
    if d.focus is None:
        blocks.append(("para", tr("names", lang, ks=", ".join(ly.name for ly in d.layers),
                                  ls=", ".join(str(ell + 1) for ell in range(len(d.layers)))), "dim"))
    return blocks


def _example_line(d: Derivation, n: int, lang: str, with_input: bool = True) -> tuple:
    ex = d.examples[n]
    if ex.target_class is not None:
        t = f"{tr('class', lang)} c = {ex.target_class}"
    else:
        t = f"{tr('target', lang)} t = {vec(ex.target) if len(ex.target) <= 10 else '…'}"
    x = f"   {tr('input', lang)} x = {vec(ex.x)}" if with_input and len(ex.x) <= 10 else ""
    which = f" ({tr('test_example', lang, k=d.example_ids[n])})" if d.example_ids is not None else ""
    return ("example", f"{tr('example', lang, n=n + 1)}{which}{x}   {t}")


def _image(d: Derivation, n: int) -> list:
    """The input drawn as an image, with the pixel the explained weight reads marked (a first-layer weight)."""
    if d.image_shape is None:
        return []
    ell, kind, idx = d.focus if d.focus is not None else (None, None, None)
    mark = divmod(idx[1], d.image_shape[1]) if ell == 0 and kind == "weight" else None
    return [("image", np.asarray(d.examples[n].x).reshape(d.image_shape), mark)]


# ----------------------------------------------------------------- the full network

def forward(d: Derivation, n: int, lang: str) -> list:
    ex = d.examples[n]
    blocks = [_example_line(d, n, lang)]
    last = len(d.layers) - 1
    for ell, (ly, t) in enumerate(zip(d.layers, ex.layers)):
        kind = tr("output_layer" if ell == last else "hidden", lang)
        blocks.append(("h3", f"{tr('layer', lang, l=ell + 1)} · {kind} · σ = {act_name(ly.activation, lang)}"))
        blocks.append(("pairs", [neuron_pair(d, ex, ell, i) for i in range(len(t.z))]))
    y_name = "y = softmax(a)" if d.loss == "cross_entropy" else "y"
    blocks.append(("line", f"{tr('prediction', lang)} {y_name} = {vec(ex.y)}", None))
    blocks.append(("expr", f"{tr('loss_is', lang)} l = ", _loss_terms(d, ex), f" = {num(ex.loss)}"))
    return blocks


def neuron_pair(d: Derivation, ex, ell: int, i: int, top: int | None = None) -> tuple[list[str], str]:
    """One neuron's forward pass: (the parts of z = Σ w·a + b = v, "a = σ(z) = …"); with ``top``, only
    the largest terms of a long sum."""
    ly, t = d.layers[ell], ex.layers[ell]
    js = range(len(t.inputs)) if top is None or len(t.inputs) <= top else _top(ly.weight[i] * t.inputs, top)
    terms = [f"{paren(ly.weight[i, j])}·{paren(t.inputs[j])}" for j in js] + (["…"] if len(js) < len(t.inputs) else [])
    left = [f"{z_sym(ell + 1, i + 1)} = "] + _joined(terms) + [f" + {paren(ly.bias[i])}", f" = {num(t.z[i])}"]
    return left, f"{a_sym(ell + 1, i + 1)} = σ({z_sym(ell + 1, i + 1)}) = {num(t.a[i])}"


def published(d: Derivation, lang: str) -> list:
    """The source's printed activations beside chainrule's, and whether they round to the same."""
    from .i18n import LANGS
    from .presets import decimals, matches

    p, ex = d.published, d.examples[0]
    k = LANGS.index(lang)
    ours = [t.a for t in ex.layers]
    if [len(a) for a in p.published] != [len(a) for a in ours]:
        return []
    ok = all(matches(v, s) for a, ps in zip(ours, p.published) for v, s in zip(a, ps))
    theirs = " → ".join(", ".join(ps) for ps in p.published)
    mine = " → ".join(", ".join(num(v) for v in a) for a in ours)
    places = sorted({decimals(s) for ps in p.published for s in ps})
    places = str(places[0]) if len(places) == 1 else f"{places[0]}–{places[-1]}"
    blocks = [("line", tr("published", lang, source=p.source[k], a=theirs), "key"),
              ("line", tr("published_ours", lang, a=mine), None),
              ("line", f"{_mark(ok)} " + tr("published_same" if ok else "published_differ", lang, n=places), None)]
    if p.note[k]:
        blocks.append(("para", p.note[k], "dim"))
    return blocks


def _loss_terms(d: Derivation, ex) -> list[str]:
    if d.loss == "mse":
        k = len(ex.y)
        if k > 6:
            return [f"(1/{k})·Σⱼ (yⱼ − tⱼ)²"]
        sq = _joined([f"({num(y)} − {num(t)})²" for y, t in zip(ex.y, ex.target)])
        return [f"(1/{k})·[" + sq[0]] + sq[1:-1] + [sq[-1] + "]"] if k > 1 else [f"(1/1)·[{sq[0]}]"]
    if ex.target_class is not None:
        c = ex.target_class
        return [f"−log y{sub(c + 1)} = −log {num(ex.y[c])}"]
    return ["−Σⱼ tⱼ·log yⱼ"]


def dzdw(d: Derivation, lang: str) -> list:
    blocks = [("para", tr("dzdw_rule", lang), "dim")]
    for n, ex in enumerate(d.examples):
        if len(d.examples) > 1:
            blocks.append(_example_line(d, n, lang, with_input=False))
        for ell, t in enumerate(ex.layers):
            feed = "xⱼ" if ell == 0 else f"a{sup(ell)}ⱼ"
            lead = f"{tr('layer', lang, l=ell + 1)}:  ∂z{sup(ell + 1)}ᵢ/∂w{sup(ell + 1)}ᵢⱼ = {feed}  →  "
            parts = [("   " if j else "") + f"{a_sym(ell, j + 1)} = {num(v)}" for j, v in enumerate(t.inputs)]
            blocks.append(("expr", lead, parts, ""))
    blocks.append(("para", f"({tr('same_for_all', lang)}; ∂z/∂b = 1)", "dim"))
    return blocks


def _case_heading(d: Derivation, ell: int, lang: str) -> tuple:
    if ell == len(d.layers) - 1:
        return ("h3", tr("case1_ce" if d.loss == "cross_entropy" else "case1", lang, l=ell + 1))
    return ("h3", tr("case2", lang, l=ell + 1))


def _output_neuron(d: Derivation, ex, i: int) -> list:
    """Case 1 for output neuron i: ∂l/∂y (or ∂l/∂a) from the loss, then × σ'(z)."""
    t = ex.layers[-1]
    L = len(d.layers)
    zs = z_sym(L, i + 1)
    if d.loss == "mse":
        k = len(t.z)
        y = f"y{sub(i + 1)}"
        first = (f"∂l/∂{y}", [f"2({y} − t{sub(i + 1)})/{k}", f" = 2·({num(ex.y[i])} − {num(ex.target[i])})/{k}",
                              f" = {num(t.dl_da[i])}"])
    else:
        y = f"a{sup(L)}{sub(i + 1)}"
        s = float(np.sum(ex.target))
        scale = "" if abs(s - 1.0) < 1e-12 else "·Σt"  # targets that are not probabilities
        first = (f"∂l/∂{y}", [f"y{sub(i + 1)}{scale} − t{sub(i + 1)}",
                              f" = {num(ex.y[i])}{'·' + num(s) if scale else ''} − {num(ex.target[i])}",
                              f" = {num(t.dl_da[i])}"])
    ok = _ok(t.dl_dz[i], t.dl_dz_autograd[i], d)
    return [("chain", first[0], [first[1]], ""),
            ("chain", f"∂l/∂{zs}", [[f"σ'({zs})·∂l/∂{y}", f" = {num(t.sigma_prime[i])} × {paren(t.dl_da[i])}",
                                     f" = {num(t.dl_dz[i])}"]], _mark(ok))]


def _hidden_neuron(d: Derivation, ex, ell: int, i: int, top: int | None = None) -> tuple:
    """Case 2: ∂l/∂z = σ'(z)·Σₖ wₖᵢ·∂l/∂zₖ with every term's numbers (the ``top`` largest in focus mode)."""
    t, nxt, W = ex.layers[ell], ex.layers[ell + 1], d.layers[ell + 1].weight
    L = ell + 1
    zs = z_sym(L, i + 1)
    ks = list(range(W.shape[0]))
    more = ""
    if top is not None and len(ks) > top:
        ks = [int(k) for k in np.argsort(-np.abs(W[:, i] * nxt.dl_dz), kind="stable")[:top]]
        more = " + …"
    sym = _joined([f"{w_sym(L + 1, k + 1, i + 1)}·∂l/∂{z_sym(L + 1, k + 1)}" for k in ks])
    vals = _joined([f"{paren(W[k, i])}·{paren(nxt.dl_dz[k])}" for k in ks])
    sp = num(t.sigma_prime[i])
    ok = _ok(t.dl_dz[i], t.dl_dz_autograd[i], d)
    lines = [[f"σ'({zs})·["] + sym + [more + "]"], [f"{sp} × ["] + vals + [more + "]"],
             [f"{sp} × {paren(t.dl_da[i])}", f" = {num(t.dl_dz[i])}"]]
    return ("chain", f"∂l/∂{zs}", lines, _mark(ok))


def backward(d: Derivation, n: int, lang: str) -> list:
    ex = d.examples[n]
    blocks = [_example_line(d, n, lang, with_input=False)] if len(d.examples) > 1 else []
    last = len(d.layers) - 1
    for ell in range(last, -1, -1):
        blocks.append(_case_heading(d, ell, lang))
        for i in range(len(ex.layers[ell].z)):
            if ell == last:
                blocks += _output_neuron(d, ex, i)
            else:
                blocks.append(_hidden_neuron(d, ex, ell, i))
    return blocks


def chain_table(d: Derivation, n: int, lang: str, count: Counter) -> list:
    ex = d.examples[n]
    blocks = [_example_line(d, n, lang, with_input=False)] if len(d.examples) > 1 else []
    header_ = [tr(k, lang) for k in ("col_param", "col_dzdw", "col_dldz", "col_dldw", "col_autograd",
                                     "col_numeric", "col_ok")]
    rows = []
    for ell, kind, idx in _params(d):
        t = ex.layers[ell]
        g, ga, gn = _three(t, kind, idx)
        ok = count.check(g, ga, gn, d)
        dz = t.inputs[idx[1]] if kind == "weight" else 1.0
        zs = z_sym(ell + 1, idx[0] + 1)
        src = a_sym(ell, idx[1] + 1) if kind == "weight" else "1"
        sym = param_sym(ell, kind, idx)
        rows.append([sym, Tip(cell(dz), f"∂{zs}/∂{sym} = {src} = {num(dz)} ({tr('tip_forward', lang)})"),
                     Tip(cell(t.dl_dz[idx[0]]), f"∂l/∂{zs} = {num(t.dl_dz[idx[0]])} ({tr('tip_backward', lang)})"),
                     Tip(cell(g), f"∂{zs}/∂w · ∂l/∂{zs} = {num(dz)} × {paren(t.dl_dz[idx[0]])} = {num(g)}"),
                     Tip(cell(ga), tr("tip_autograd", lang)), Tip(cell(gn), tr("tip_numeric", lang)), _mark(ok)])
    blocks.append(("table", header_, rows, _groups(d)))
    return blocks


def totals(d: Derivation, lang: str, count: Counter) -> list:
    tot = d.totals
    N = len(d.examples)
    blocks = [("para", tr("total_rule", lang), "dim"),
              ("expr", "", [("   " if n else "") + f"l{sup(n + 1)} = {num(ex.loss)}"
                            for n, ex in enumerate(d.examples)], ""),
              ("line", f"{tr('total_loss', lang)} = {num(tot.loss)}      {tr('cost', lang)} = {num(tot.cost)}",
               "key")]
    per = N <= 2
    header_ = [tr("col_param", lang)] + ([f"∂l{sup(n + 1)}/∂w" for n in range(N)] if per else [])
    header_ += [tr(k, lang) for k in ("col_sum", "col_autograd", "col_numeric", "col_ok", "col_mean")]
    rows = []
    for ell, kind, idx in _params(d):
        g, ga, gn = _three(_LayerView(tot, ell), kind, idx)
        ok = count.check(g, ga, gn, d)
        row = [param_sym(ell, kind, idx)]
        if per:
            row += [cell(_three(ex.layers[ell], kind, idx)[0]) for ex in d.examples]
        rows.append(row + [cell(g), cell(ga), cell(gn), _mark(ok), cell(g / N)])
    per_cols = list(range(1, N + 1)) if per else []  # a narrow terminal may leave these out
    blocks.append(("table", header_, rows, _groups(d), per_cols))
    return blocks


class _LayerView:
    """The totals' per-layer lists seen as one layer's trace (same attribute names)."""

    def __init__(self, tot, ell: int):
        for k in ("dl_dw", "dl_db"):
            for s in ("", "_autograd", "_numeric"):
                setattr(self, k + s, getattr(tot, k + s)[ell])


def step(d: Derivation, lang: str, only=None) -> list:
    s, tot = d.step, d.totals
    header_ = [tr(k, lang) for k in ("col_param", "col_old", "col_grad", "col_new")]
    rows = []
    for ell, kind, idx in (_params(d) if only is None else [only]):
        old = (d.layers[ell].weight if kind == "weight" else d.layers[ell].bias)[idx]
        g = (tot.dl_dw if kind == "weight" else tot.dl_db)[ell][idx]
        new = (s.weight if kind == "weight" else s.bias)[ell][idx]
        rows.append([param_sym(ell, kind, idx), cell(old), cell(g),
                     Tip(cell(new), f"{num(old)} − {num(s.lr)} × {paren(g)} = {num(new)}")])
    change = (s.loss_after - s.loss_before) / s.loss_before * 100 if s.loss_before else 0.0
    pct = f"{change:+.2f}%".replace("-", "−")
    before, after = tr("loss_before", lang) + ":", tr("loss_after", lang) + ":"
    w = max(width(before), width(after))  # the two L(θ) line up
    blocks = [("table", header_, rows, _groups(d) if only is None else None), ("blank",),
              ("line", f"{pad(before, w)}  L(θ⁰) = {num(s.loss_before)}", "key"),
              ("line", f"{pad(after, w)}  L(θ¹) = {num(s.loss_after)}   ({tr('change', lang)} {pct})", "key")]
    if len(d.examples) > 1:
        blocks.append(("line", f"{tr('cost', lang)}:  {num(s.cost_before)} → {num(s.cost_after)}", None))
    return blocks


def verdict(d: Derivation, lang: str, count: Counter) -> list:
    if count.bad:
        msg = ("verdict", tr("some_disagree", lang, k=count.bad, n=count.total), False)
    else:
        msg = ("verdict", tr("all_agree", lang, n=count.total), True)
    return [msg, ("para", tr("tolerance", lang, atol=f"{d.atol:g}", rtol=f"{d.rtol:g}"), "dim")]


def _localise(v, lang: str):
    """Every string of the blocks with Chinese punctuation where the text is Chinese."""
    from .zh import fullwidth

    if lang != "zh":
        return v
    if isinstance(v, str):
        return fullwidth(v)
    if isinstance(v, (list, tuple)):
        return type(v)(_localise(x, lang) for x in v)
    return v


def build(d: Derivation, lang: str = "en") -> list:
    """All blocks of the explanation, in order."""
    return _localise(_build(d, lang), lang)


def _build(d: Derivation, lang: str) -> list:
    if d.focus is not None:
        return build_focus(d, lang)
    multi = len(d.examples) > 1
    count = Counter()
    blocks = header(d, lang)
    blocks += [("section", 1, tr("s_forward", lang)), ("para", tr("forward_rule", lang), "dim")]
    for n in range(len(d.examples)):
        blocks += forward(d, n, lang)
        if n == 0 and d.published is not None:
            blocks += published(d, lang)
    blocks += [("section", 2, tr("s_dzdw", lang))] + dzdw(d, lang)
    blocks += [("section", 3, tr("s_backward", lang)), ("para", tr("backward_rule", lang), "dim")]
    for n in range(len(d.examples)):
        blocks += backward(d, n, lang)
    blocks.append(("para", tr("autograd_agrees", lang), "dim"))
    blocks += [("section", 4, tr("s_chain", lang)), ("para", tr("chain_rule", lang), "dim")]
    for n in range(len(d.examples)):
        blocks += chain_table(d, n, lang, count)
    if multi:
        blocks += [("section", 5, tr("s_total", lang))] + totals(d, lang, count)
    blocks += [("section", 6 if multi else 5, tr("s_step", lang))] + step(d, lang)
    return blocks + verdict(d, lang, count)


# ----------------------------------------------------------------- one weight of a large network

def _top(values, k: int = TOP) -> list[int]:
    return [int(i) for i in np.argsort(-np.abs(np.asarray(values)), kind="stable")[:k]]


def _focus_forward(d: Derivation, n: int, lang: str) -> list:
    ell, kind, idx = d.focus
    L, i, ly = ell + 1, idx[0], d.layers[ell]
    ex, zs = d.examples[n], z_sym(ell + 1, idx[0] + 1)
    t = ex.layers[ell]
    terms = ly.weight[i] * t.inputs
    feed = "x" if ell == 0 else "a" + sup(ell)
    shown = _top(terms)
    more = len(terms) - len(shown)
    tail = (f" + [{tr('more', lang, n=more)}]" if more > 0 else "") + f" + {paren(ly.bias[i])} = {num(t.z[i])}"
    y = vec(ex.y) if len(ex.y) <= 10 else f"({len(ex.y)} …)"
    return [_example_line(d, n, lang, with_input=False), *_image(d, n),
            ("line", f"{zs} = Σⱼ w{sup(L)}{sub(i + 1)}ⱼ·{feed}ⱼ + {b_sym(L, i + 1)}   "
                     f"({tr('terms_of', lang, n=len(terms))})", None),
            ("expr", "   = ", _joined([f"{paren(ly.weight[i, j])}·{paren(t.inputs[j])}" for j in shown]), tail),
            ("line", f"{a_sym(L, i + 1)} = σ({zs}) = {num(t.a[i])}      σ'({zs}) = {num(t.sigma_prime[i])}", None),
            ("line", f"{tr('prediction', lang)} y = {y}   {tr('loss_is', lang)} l = {num(ex.loss)}", None)]


def _focus_backward(d: Derivation, n: int, lang: str) -> list:
    ell, kind, idx = d.focus
    ex = d.examples[n]
    blocks = [_example_line(d, n, lang, with_input=False)] if len(d.examples) > 1 else []
    for m in range(len(d.layers) - 1, ell - 1, -1):
        tm = ex.layers[m]
        blocks.append(_case_heading(d, m, lang))
        neurons = [idx[0]] if m == ell else _top(tm.dl_dz)
        for k in neurons:
            if m == len(d.layers) - 1:
                blocks += _output_neuron(d, ex, k)[1:]
            else:
                blocks.append(_hidden_neuron(d, ex, m, k, top=TOP))
        hidden = (1 if m == ell else len(tm.z)) - len(neurons)
        if hidden > 0:
            blocks.append(("line", tr("more_neurons", lang, n=hidden), "dim"))
    return blocks


def build_focus(d: Derivation, lang: str = "en") -> list:
    """One weight (or bias) followed along every path from it to the loss, for each example."""
    ell, kind, idx = d.focus
    L, i = ell + 1, idx[0]
    name = f"{d.layers[ell].name}.{kind}[{','.join(map(str, idx))}]"
    sym = param_sym(ell, kind, idx)
    zs = z_sym(L, i + 1)
    count = Counter()
    blocks = header(d, lang, "focus_title")
    if kind == "weight":
        blocks.append(("line", tr("focus_weight", lang, name=name, sym=sym, src=a_sym(ell, idx[1] + 1), i=i + 1, l=L),
                       "key"))
    else:
        blocks.append(("line", tr("focus_bias", lang, name=name, sym=sym, i=i + 1, l=L), "key"))
    N = range(len(d.examples))
    blocks.append(("section", 1, tr("s_forward", lang)))
    for n in N:
        blocks += _focus_forward(d, n, lang)
    blocks.append(("section", 2, tr("s_dzdw", lang)))
    for n in N:
        t = d.examples[n].layers[ell]
        src = f"{a_sym(ell, idx[1] + 1)} = {num(t.inputs[idx[1]])}" if kind == "weight" else "1"
        prefix = f"{tr('example', lang, n=n + 1)}:  " if len(d.examples) > 1 else ""
        blocks.append(("line", f"{prefix}∂{zs}/∂{sym} = {src}", None))
    blocks += [("section", 3, tr("s_backward", lang)), ("para", tr("paths", lang), "dim")]
    for n in N:
        blocks += _focus_backward(d, n, lang)
    blocks.append(("section", 4, tr("s_chain", lang)))
    rows = []
    for n in N:
        t = d.examples[n].layers[ell]
        dz = t.inputs[idx[1]] if kind == "weight" else 1.0
        g, ga, gn = _three(t, kind, idx)
        ok = count.check(g, ga, gn, d)
        lhs = f"∂l{sup(n + 1)}/∂{sym}" if len(d.examples) > 1 else f"∂l/∂{sym}"
        blocks.append(("chain", lhs, [[f"∂{zs}/∂{sym} · ∂l/∂{zs}", f" = {num(dz)} × {paren(t.dl_dz[i])}",
                                       f" = {num(g)}"]], ""))
        rows.append([sym if len(d.examples) == 1 else f"{sym}  (l{sup(n + 1)})", cell(g), cell(ga), cell(gn),
                     _mark(ok)])
    blocks.append(("table", [tr(k, lang) for k in ("col_param", "col_dldw", "col_autograd", "col_numeric",
                                                   "col_ok")], rows, None))
    if len(d.examples) > 1:
        tot = d.totals
        g, ga, gn = _three(_LayerView(tot, ell), kind, idx)
        ok = count.check(g, ga, gn, d)
        blocks += [("section", 5, tr("s_total", lang)), ("para", tr("total_rule", lang), "dim"),
                   ("line", f"{tr('total_loss', lang)} = {num(tot.loss)}      {tr('cost', lang)} = {num(tot.cost)}",
                    "key"),
                   ("table", [tr(k, lang) for k in ("col_param", "col_sum", "col_autograd", "col_numeric", "col_ok",
                                                    "col_mean")],
                    [[sym, cell(g), cell(ga), cell(gn), _mark(ok), cell(g / len(d.examples))]], None)]
    blocks += [("section", 6 if len(d.examples) > 1 else 5, tr("s_step", lang)), ("para", tr("step_all", lang), "dim")]
    blocks += step(d, lang, only=d.focus)
    return blocks + verdict(d, lang, count)
