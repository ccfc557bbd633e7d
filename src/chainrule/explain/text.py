"""The explanation as terminal text: formulas with their numbers, and tables that fit 80 columns.

Layout is computed on plain text; colour (ANSI) is added per line afterwards, so
widths never count escape codes.
"""
from __future__ import annotations

import numpy as np

from .derivation import Derivation, agrees
from .i18n import act_name, tr
from .notation import a_sym, b_sym, cell, num, pad, paren, param_sym, sub, sup, w_sym, width, z_sym

_STYLES = {"h1": "1;36", "h2": "1", "dim": "2", "ok": "32", "bad": "1;31", "amp": "33", "key": "1;35"}


class _Out:
    """Lines of output with an optional style each; rendering adds ANSI colour only when asked."""

    def __init__(self, width: int, color: bool):
        self.width, self.color, self.lines = width, color, []

    def add(self, s: str = "", style: str | None = None) -> None:
        self.lines.append((s, style))

    def para(self, s: str, indent: int = 3, style: str | None = "dim") -> None:
        for line in wrap(s, self.width - indent):
            self.add(" " * indent + line, style)

    def expr(self, lead: str, parts: list[str], indent: int, tail: str = "") -> None:
        """``lead`` then ``parts`` joined, wrapped under the first part when longer than the width."""
        first = " " * indent + lead
        hang = " " * width(first)
        line = first
        for k, p in enumerate(parts):
            if k and width(line) + width(p) > self.width:
                self.add(line.rstrip())
                line = hang + p.lstrip()
            else:
                line += p
        if tail and width(line) + width(tail) > self.width:
            self.add(line.rstrip())
            line = hang + tail.lstrip()
        else:
            line += tail
        self.add(line)

    def render(self) -> str:
        out = []
        for s, style in self.lines:
            if self.color and style:
                s = f"\x1b[{_STYLES[style]}m{s}\x1b[0m"
            elif self.color:
                s = s.replace("✓", "\x1b[32m✓\x1b[0m").replace("✗", "\x1b[1;31m✗\x1b[0m")
            out.append(s)
        return "\n".join(out) + "\n"


def wrap(s: str, w: int) -> list[str]:
    """Greedy wrap by display width; breaks at spaces, or anywhere in CJK text."""
    lines, cur = [], ""
    for ch in s:
        cur += ch
        if width(cur) > w:
            cut = cur.rfind(" ")
            if cut > 0 and width(cur[:cut]) > w // 2:
                lines.append(cur[:cut])
                cur = cur[cut + 1:]
            else:
                lines.append(cur[:-1])
                cur = ch
    if cur.strip():
        lines.append(cur)
    return lines


def table(out: _Out, header: list[str], rows: list[list[str]], indent: int = 3, groups=None) -> None:
    """Right-aligned numeric columns (first column left), two spaces apart; a rule after each group."""
    cols = list(zip(header, *rows))
    ws = [max(width(c) for c in col) for col in cols]
    fmt = lambda r: " " * indent + "  ".join(
        pad(c, ws[k], right=k > 0) for k, c in enumerate(r)).rstrip()
    rule = " " * indent + "─" * (sum(ws) + 2 * (len(ws) - 1))
    out.add(fmt(header), "h2")
    out.add(rule, "dim")
    ends = set(np.cumsum(groups)[:-1].tolist()) if groups else set()
    for k, r in enumerate(rows):
        if k in ends:
            out.add(" " * indent + "┄" * (sum(ws) + 2 * (len(ws) - 1)), "dim")
        out.add(fmt(r))


def vec(v) -> str:
    return "(" + ", ".join(num(x) for x in v) + ")"


def mark(a, b, d: Derivation) -> str:
    return "✓" if agrees(a, b, d.atol, d.rtol) else "✗"


# ----------------------------------------------------------------- header

def _header(out: _Out, d: Derivation, lang: str, title_key: str = "title") -> None:
    sizes = [d.layers[0].weight.shape[1]] + [ly.weight.shape[0] for ly in d.layers]
    n_params = sum(ly.weight.size + ly.bias.size for ly in d.layers)
    out.add(tr(title_key, lang), "h1")
    out.para(tr("subtitle", lang), indent=0)
    out.add()
    acts = ", ".join(act_name(ly.activation, lang) for ly in d.layers)
    rows = [
        (tr("network", lang), " → ".join(map(str, sizes)) + f"   ({n_params} {tr('parameters', lang)})"),
        (tr("activation", lang), acts),
        (tr("loss", lang), tr(f"loss_{d.loss}", lang)),
        (tr("examples", lang), f"N = {len(d.examples)}"),
        (tr("lr", lang), f"η = {num(d.step.lr)}"),
    ]
    kw = max(width(k) for k, _ in rows)
    for k, v in rows:
        out.add(f"  {pad(k, kw)}  {v}")
    if d.focus is None:
        out.para(tr("names", lang, ks=", ".join(ly.name for ly in d.layers),
                    ls=", ".join(str(ell + 1) for ell in range(len(d.layers)))), indent=2)
    out.add()


def _section(out: _Out, n: int, key: str, lang: str) -> None:
    out.add()
    out.add(f"{n}  {tr(key, lang)}", "h1")


# ----------------------------------------------------------------- full network

def _forward(out: _Out, d: Derivation, n: int, lang: str) -> None:
    ex = d.examples[n]
    tline = f"{tr('target', lang)} t = {vec(ex.target)}"
    if ex.target_class is not None:
        tline = f"{tr('class', lang)} c = {ex.target_class}"
    out.add(f"   {tr('example', lang, n=n + 1)}   {tr('input', lang)} x = {vec(ex.x)}   {tline}", "key")
    last = len(d.layers) - 1
    for ell, (ly, t) in enumerate(zip(d.layers, ex.layers)):
        kind = tr("output_layer" if ell == last else "hidden", lang)
        out.add(f"   {tr('layer', lang, l=ell + 1)} · {kind} · σ = {act_name(ly.activation, lang)}", "h2")
        zl, al, parts_of = [], [], []
        for i in range(len(t.z)):
            terms = [f"{paren(ly.weight[i, j])}·{paren(t.inputs[j])}" for j in range(len(t.inputs))]
            parts_of.append([(" + " if j else "") + s for j, s in enumerate(terms)] + [f" + {paren(ly.bias[i])}"])
            zl.append(f"     {z_sym(ell + 1, i + 1)} = " + "".join(parts_of[-1]) + f" = {num(t.z[i])}")
            al.append(f"{a_sym(ell + 1, i + 1)} = σ({z_sym(ell + 1, i + 1)}) = {num(t.a[i])}")
        col = max(width(s) for s in zl) + 3
        for i in range(len(t.z)):
            if col + width(al[i]) <= out.width:
                out.add(pad(zl[i], col) + al[i])
            else:
                out.expr(f"{z_sym(ell + 1, i + 1)} = ", parts_of[i], 5, f" = {num(t.z[i])}")
                out.add(" " * 10 + al[i])
    y_name = "y = softmax(a)" if d.loss == "cross_entropy" else "y"
    out.add(f"   {tr('prediction', lang)} {y_name} = {vec(ex.y)}")
    out.expr(f"{tr('loss_is', lang)} l = ", [_loss_terms(d, ex)], 3, f" = {num(ex.loss)}")


def _loss_terms(d: Derivation, ex) -> str:
    if d.loss == "mse":
        k = len(ex.y)
        sq = " + ".join(f"({num(y)} − {num(t)})²" for y, t in zip(ex.y, ex.target))
        return f"(1/{k})·[{sq}]" if k <= 4 else f"(1/{k})·Σⱼ (yⱼ − tⱼ)²"
    if ex.target_class is not None:
        c = ex.target_class
        return f"−log y{sub(c + 1)} = −log {num(ex.y[c])}"
    return "−Σⱼ tⱼ·log yⱼ"


def _dzdw(out: _Out, d: Derivation, lang: str) -> None:
    out.para(tr("dzdw_rule", lang))
    for n, ex in enumerate(d.examples):
        if len(d.examples) > 1:
            out.add(f"   {tr('example', lang, n=n + 1)}", "key")
        for ell, t in enumerate(ex.layers):
            feed = "xⱼ" if ell == 0 else f"a{sup(ell)}ⱼ"
            lead = f"{tr('layer', lang, l=ell + 1)}   ∂z{sup(ell + 1)}ᵢ/∂w{sup(ell + 1)}ᵢⱼ = {feed}:  "
            parts = [f"  {a_sym(ell, j + 1)} = {num(v)}" for j, v in enumerate(t.inputs)]
            out.expr(lead, parts, 3)
    out.para(f"({tr('same_for_all', lang)}; ∂z/∂b = 1)", indent=3)


def _backward(out: _Out, d: Derivation, n: int, lang: str) -> None:
    ex = d.examples[n]
    last = len(d.layers) - 1
    if len(d.examples) > 1:
        out.add(f"   {tr('example', lang, n=n + 1)}", "key")
    for ell in range(last, -1, -1):
        t = ex.layers[ell]
        L = ell + 1
        if ell == last:
            out.para(tr('case1_ce' if d.loss == 'cross_entropy' else 'case1', lang, l=L), style="h2")
        else:
            out.para(tr('case2', lang, l=L), style="h2")
        for i in range(len(t.z)):
            zs = z_sym(L, i + 1)
            ok = mark(t.dl_dz[i], t.dl_dz_autograd[i], d)
            if ell == last:
                if d.loss == "mse":
                    k = len(t.z)
                    y = f"y{sub(i + 1)}"
                    out.add(f"     ∂l/∂{y} = 2({y} − t{sub(i + 1)})/{k} = 2·({num(ex.y[i])} − {num(ex.target[i])})/{k}"
                            f" = {num(t.dl_da[i])}")
                    src = f"∂l/∂{y}"
                else:
                    y = f"a{sup(L)}{sub(i + 1)}"
                    out.add(f"     ∂l/∂{y} = y{sub(i + 1)} − t{sub(i + 1)} = {num(ex.y[i])} − {num(ex.target[i])}"
                            f" = {num(t.dl_da[i])}")
                    src = f"∂l/∂{y}"
                out.add(f"     ∂l/∂{zs} = σ'({zs})·{src} = {num(t.sigma_prime[i])} × {paren(t.dl_da[i])}"
                        f" = {num(t.dl_dz[i])}   {ok}")
                continue
            nxt = ex.layers[ell + 1]
            W = d.layers[ell + 1].weight
            sym_terms = [f"{w_sym(L + 1, k + 1, i + 1)}·∂l/∂{z_sym(L + 1, k + 1)}" for k in range(W.shape[0])]
            num_terms = [f"{paren(W[k, i])}·{paren(nxt.dl_dz[k])}" for k in range(W.shape[0])]
            lead = f"∂l/∂{zs} = "
            out.expr(lead + f"σ'({zs})·[", [(" + " if k else "") + s for k, s in enumerate(sym_terms)], 5, "]")
            hang = 5 + width(lead) - 2
            out.expr(f"= {num(t.sigma_prime[i])} × [", [(" + " if k else "") + s for k, s in enumerate(num_terms)],
                     hang, "]")
            out.add(" " * hang + f"= {num(t.sigma_prime[i])} × {paren(t.dl_da[i])} = {num(t.dl_dz[i])}   {ok}")
    out.para(tr("autograd_agrees", lang))


def _param_rows(d: Derivation, ex_or_totals, per_example: bool):
    """(symbol, layer index, kind, index) for every parameter, weights then bias per layer."""
    for ell, ly in enumerate(d.layers):
        for idx in np.ndindex(ly.weight.shape):
            yield ell, "weight", idx
        for idx in np.ndindex(ly.bias.shape):
            yield ell, "bias", idx


def _chain_table(out: _Out, d: Derivation, n: int, lang: str) -> tuple[int, int]:
    ex = d.examples[n]
    if len(d.examples) > 1:
        out.add(f"   {tr('example', lang, n=n + 1)}", "key")
    header = [tr(k, lang) for k in ("col_param", "col_dzdw", "col_dldz", "col_dldw", "col_autograd",
                                    "col_numeric", "col_ok")]
    rows, bad, total = [], 0, 0
    for ell, kind, idx in _param_rows(d, ex, True):
        t = ex.layers[ell]
        i = idx[0]
        dzdw = t.inputs[idx[1]] if kind == "weight" else 1.0
        g = (t.dl_dw if kind == "weight" else t.dl_db)[idx]
        ga = (t.dl_dw_autograd if kind == "weight" else t.dl_db_autograd)[idx]
        gn = (t.dl_dw_numeric if kind == "weight" else t.dl_db_numeric)[idx]
        ok = agrees(g, ga, d.atol, d.rtol) and agrees(g, gn, d.atol, d.rtol)
        total += 1
        bad += not ok
        rows.append([param_sym(ell, kind, idx), cell(dzdw), cell(t.dl_dz[i]), cell(g), cell(ga), cell(gn),
                     "✓" if ok else "✗"])
    table(out, header, rows, groups=_groups(d))
    return bad, total


def _groups(d: Derivation) -> list[int]:
    """Row counts of each layer's parameters, so tables can rule a line between layers."""
    return [ly.weight.size + ly.bias.size for ly in d.layers]


def _totals(out: _Out, d: Derivation, lang: str) -> tuple[int, int]:
    tot = d.totals
    out.para(tr("total_rule", lang))
    losses = "  ".join(f"l{sup(n + 1)} = {num(ex.loss)}" for n, ex in enumerate(d.examples))
    out.expr("", [losses], 3)
    out.add(f"   {tr('total_loss', lang)} = {num(tot.loss)}      {tr('cost', lang)} = {num(tot.cost)}", "key")
    per = len(d.examples) <= 2
    header = [tr("col_param", lang)] + ([f"∂l{sup(n + 1)}/∂w" for n in range(len(d.examples))] if per else [])
    header += [tr("col_sum", lang), tr("col_autograd", lang), tr("col_numeric", lang), tr("col_ok", lang),
               tr("col_mean", lang)]
    rows, bad, total = [], 0, 0
    for ell, kind, idx in _param_rows(d, tot, False):
        key = "dl_dw" if kind == "weight" else "dl_db"
        g = getattr(tot, key)[ell][idx]
        ga = getattr(tot, key + "_autograd")[ell][idx]
        gn = getattr(tot, key + "_numeric")[ell][idx]
        ok = agrees(g, ga, d.atol, d.rtol) and agrees(g, gn, d.atol, d.rtol)
        total += 1
        bad += not ok
        row = [param_sym(ell, kind, idx)]
        if per:
            row += [cell(getattr(ex.layers[ell], key)[idx]) for ex in d.examples]
        row += [cell(g), cell(ga), cell(gn), "✓" if ok else "✗", cell(g / len(d.examples))]
        rows.append(row)
    table(out, header, rows, groups=_groups(d))
    return bad, total


def _step(out: _Out, d: Derivation, lang: str, only=None) -> None:
    s, tot = d.step, d.totals
    header = [tr("col_param", lang), tr("col_old", lang), tr("col_grad", lang), tr("col_new", lang)]
    rows = []
    for ell, kind, idx in (_param_rows(d, tot, False) if only is None else [only]):
        old = (d.layers[ell].weight if kind == "weight" else d.layers[ell].bias)[idx]
        g = (tot.dl_dw if kind == "weight" else tot.dl_db)[ell][idx]
        new = (s.weight if kind == "weight" else s.bias)[ell][idx]
        rows.append([param_sym(ell, kind, idx), cell(old), cell(g), cell(new)])
    table(out, header, rows, groups=_groups(d) if only is None else None)
    out.add()
    change = (s.loss_after - s.loss_before) / s.loss_before * 100 if s.loss_before else 0.0
    out.add(f"   {tr('loss_before', lang)}: L(θ⁰) = {num(s.loss_before)}", "key")
    pct = f"{change:+.2f}%".replace("-", "−")
    out.add(f"   {tr('loss_after', lang)}:  L(θ¹) = {num(s.loss_after)}   ({tr('change', lang)} {pct})", "key")
    if len(d.examples) > 1:
        out.add(f"   {tr('cost', lang)}: {num(s.cost_before)} → {num(s.cost_after)}")


def _verdict(out: _Out, d: Derivation, lang: str, bad: int, total: int) -> None:
    out.add()
    if bad:
        out.para(tr("some_disagree", lang, k=bad, n=total), indent=0, style="bad")
    else:
        out.para(tr("all_agree", lang, n=total), indent=0, style="ok")
    out.para(tr("tolerance", lang, atol=f"{d.atol:g}", rtol=f"{d.rtol:g}"), indent=0)


def render(d: Derivation, lang: str = "en", color: bool = False, width: int = 80) -> str:
    """The whole explanation as terminal text."""
    if d.focus is not None:
        return render_focus(d, lang, color, width)
    out = _Out(width, color)
    _header(out, d, lang)
    multi = len(d.examples) > 1
    _section(out, 1, "s_forward", lang)
    out.para(tr("forward_rule", lang))
    for n in range(len(d.examples)):
        out.add()
        _forward(out, d, n, lang)
    _section(out, 2, "s_dzdw", lang)
    _dzdw(out, d, lang)
    _section(out, 3, "s_backward", lang)
    out.para(tr("backward_rule", lang))
    for n in range(len(d.examples)):
        out.add()
        _backward(out, d, n, lang)
    _section(out, 4, "s_chain", lang)
    out.para(tr("chain_rule", lang))
    bad = total = 0
    for n in range(len(d.examples)):
        out.add()
        b, t = _chain_table(out, d, n, lang)
        bad, total = bad + b, total + t
    if multi:
        _section(out, 5, "s_total", lang)
        b, t = _totals(out, d, lang)
        bad, total = bad + b, total + t
    _section(out, 6 if multi else 5, "s_step", lang)
    _step(out, d, lang)
    _verdict(out, d, lang, bad, total)
    return out.render()


# ----------------------------------------------------------------- one weight of a large network

TOP = 8  # terms and neurons shown per sum / layer in focus mode


def _top(values, k: int = TOP) -> list[int]:
    order = np.argsort(-np.abs(np.asarray(values)), kind="stable")
    return [int(i) for i in order[:k]]


def render_focus(d: Derivation, lang: str = "en", color: bool = False, width: int = 80) -> str:
    """One weight (or bias) followed along every path from it to the loss."""
    out = _Out(width, color)
    _header(out, d, lang, "focus_title")
    ell, kind, idx = d.focus
    L, i = ell + 1, idx[0]
    ly = d.layers[ell]
    name = f"{ly.name}.{kind}[{','.join(map(str, idx))}]"
    sym = param_sym(ell, kind, idx)
    if kind == "weight":
        j = idx[1]
        out.add(tr("focus_weight", lang, name=name, sym=sym, j=j + 1, lp=ell, i=i + 1, l=L), "key")
    else:
        out.add(tr("focus_bias", lang, name=name, sym=sym, i=i + 1, l=L), "key")
    bad = total = 0
    for n, ex in enumerate(d.examples):
        t = ex.layers[ell]
        zs = z_sym(L, i + 1)
        _section(out, 1, "s_forward", lang)
        tline = (f"{tr('class', lang)} c = {ex.target_class}" if ex.target_class is not None
                 else f"{tr('target', lang)} t = {vec(ex.target)}" if len(ex.target) <= 10 else "")
        out.add(f"   {tr('example', lang, n=n + 1)}   {tline}", "key")
        terms = ly.weight[i] * t.inputs
        out.add(f"   {zs} = Σⱼ w{sup(L)}{sub(i + 1)}ⱼ·{'x' if ell == 0 else 'a' + sup(ell)}ⱼ + {b_sym(L, i + 1)}   "
                f"({tr('terms_of', lang, n=len(terms))})")
        parts = [(" + " if k else "") + f"{paren(ly.weight[i, j])}·{paren(t.inputs[j])}"
                 for k, j in enumerate(_top(terms))]
        more = len(terms) - len(parts)
        tail = (f" + [{tr('more', lang, n=more)}]" if more > 0 else "") + f" + {paren(ly.bias[i])} = {num(t.z[i])}"
        out.expr("     = ", parts, 3, tail)
        out.add(f"   {a_sym(L, i + 1)} = σ({zs}) = {num(t.a[i])}      σ'({zs}) = {num(t.sigma_prime[i])}")
        out.add(f"   {tr('prediction', lang)} y = " + (vec(ex.y) if len(ex.y) <= 10 else f"… ({len(ex.y)})")
                + f"   {tr('loss_is', lang)} l = {num(ex.loss)}")
        _section(out, 2, "s_dzdw", lang)
        if kind == "weight":
            out.add(f"   ∂{zs}/∂{sym} = {a_sym(ell, idx[1] + 1)} = {num(t.inputs[idx[1]])}")
            dzdw = t.inputs[idx[1]]
        else:
            out.add(f"   ∂{zs}/∂{sym} = 1")
            dzdw = 1.0
        _section(out, 3, "s_backward", lang)
        out.para(tr("paths", lang))
        for m in range(len(d.layers) - 1, ell - 1, -1):
            tm = ex.layers[m]
            neurons = [i] if m == ell else list(range(len(tm.z)))
            if m == len(d.layers) - 1:
                out.para(tr('case1_ce' if d.loss == 'cross_entropy' else 'case1', lang, l=m + 1), style="h2")
            else:
                out.para(tr('case2', lang, l=m + 1), style="h2")
            shown = neurons if m == ell else _top(tm.dl_dz[neurons])
            for k in shown:
                zk = z_sym(m + 1, k + 1)
                ok = mark(tm.dl_dz[k], tm.dl_dz_autograd[k], d)
                if m == len(d.layers) - 1 or m > ell:
                    out.add(f"     ∂l/∂{zk} = σ'({zk})·∂l/∂a = {num(tm.sigma_prime[k])} × {paren(tm.dl_da[k])}"
                            f" = {num(tm.dl_dz[k])}   {ok}")
                    continue
                nxt, W = ex.layers[m + 1], d.layers[m + 1].weight
                contrib = W[:, k] * nxt.dl_dz
                order = _top(contrib)
                parts = [(" + " if q else "") + f"{paren(W[r, k])}·{paren(nxt.dl_dz[r])}" for q, r in enumerate(order)]
                more = len(contrib) - len(order)
                out.expr(f"∂l/∂{zk} = σ'({zk})·Σₖ wₖ·∂l/∂zₖ = {num(tm.sigma_prime[k])} × [", parts, 5,
                         (f" + [{tr('more', lang, n=more)}]" if more > 0 else "") + "]")
                out.add(f"          = {num(tm.sigma_prime[k])} × {paren(tm.dl_da[k])} = {num(tm.dl_dz[k])}   {ok}")
            if len(shown) < len(neurons):
                out.add("     " + tr("more_neurons", lang, n=len(neurons) - len(shown)), "dim")
        _section(out, 4, "s_chain", lang)
        g = (t.dl_dw if kind == "weight" else t.dl_db)[idx]
        ga = (t.dl_dw_autograd if kind == "weight" else t.dl_db_autograd)[idx]
        gn = (t.dl_dw_numeric if kind == "weight" else t.dl_db_numeric)[idx]
        out.add(f"   ∂l/∂{sym} = ∂{zs}/∂{sym} · ∂l/∂{zs} = {num(dzdw)} × {paren(t.dl_dz[i])} = {num(g)}")
        header = [tr(k, lang) for k in ("col_param", "col_dldw", "col_autograd", "col_numeric", "col_ok")]
        ok = agrees(g, ga, d.atol, d.rtol) and agrees(g, gn, d.atol, d.rtol)
        bad, total = bad + (not ok), total + 1
        table(out, header, [[sym, cell(g), cell(ga), cell(gn), "✓" if ok else "✗"]])
    key = "dl_dw" if kind == "weight" else "dl_db"
    if len(d.examples) > 1:
        _section(out, 5, "s_total", lang)
        tot = d.totals
        g, ga, gn = (getattr(tot, key + s)[ell][idx] for s in ("", "_autograd", "_numeric"))
        ok = agrees(g, ga, d.atol, d.rtol) and agrees(g, gn, d.atol, d.rtol)
        bad, total = bad + (not ok), total + 1
        out.add(f"   {tr('total_loss', lang)} = {num(tot.loss)}      {tr('cost', lang)} = {num(tot.cost)}", "key")
        header = [tr(k, lang) for k in ("col_param", "col_sum", "col_autograd", "col_numeric", "col_ok", "col_mean")]
        table(out, header, [[sym, cell(g), cell(ga), cell(gn), "✓" if ok else "✗", cell(g / len(d.examples))]])
    _section(out, 6 if len(d.examples) > 1 else 5, "s_step", lang)
    _step(out, d, lang, only=d.focus)
    _verdict(out, d, lang, bad, total)
    return out.render()
