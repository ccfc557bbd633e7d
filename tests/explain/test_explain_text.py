"""The terminal layout: 80 columns for any width of network, colour only on request, both languages."""
from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain.i18n import MESSAGES, tr
from chainrule.explain.network import seeded_network
from chainrule.explain.notation import cell, num, sub, width

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def wide():
    sizes = [7, 9, 6, 4]
    rng = np.random.default_rng(4)
    return cr.explain.backprop(seeded_network(sizes, "tanh", "mse", 4), rng.normal(size=(2, 7)),
                               rng.uniform(size=(2, 4)))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("cols", [80, 72])
def test_every_line_fits(wide, lang, cols):
    text = wide.text(lang=lang, width=cols)
    long = [line for line in text.splitlines() if width(line) > cols]
    assert not long, long[:3]


def test_wrapped_formulas_keep_every_term(wide):
    """Wrapping never drops a term: z¹₁'s 7 products and bias are all in the text."""
    d = wide.derivation
    text = wide.text()
    start = text.index("z¹₁ = ")
    block = text[start:text.index("a¹₁ = σ", start)]
    for j in range(7):
        assert f"{num(d.layers[0].weight[0, j]).strip('()')}" in block
    assert num(d.examples[0].layers[0].z[0]) in block


def test_colour_only_when_asked(wide):
    plain = wide.text()
    coloured = wide.text(color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain
    assert str(wide) == plain


def test_every_message_exists_in_both_languages_and_differs():
    for key, (en, zh) in MESSAGES.items():
        assert en and zh, key
        has_words = re.search(r"[A-Za-z]{4,}", en.replace("softmax", "").replace("sigmoid", ""))
        if has_words:
            assert re.search(r"[\u4e00-\u9fff]", zh), f"{key} is not translated"
    with pytest.raises(ValueError, match="language 'fr'"):
        tr("title", "fr")


def test_number_formats():
    assert num(-0.5) == "−0.5" and num(0) == "0" and num(0.0009958) == "0.0009958" and num(2.5e-6) == "2.500e−06"
    assert cell(0.1234567) == "0.123457" and cell(-1.5e-5) == "−1.500e−05"
    assert sub(1, 2) == "₁₂" and sub(10, 2) == "₁₀,₂"
    assert width("前向 z¹₁") == 8


def test_notebook_and_file_outputs(tmp_path, wide):
    assert wide._repr_html_().startswith("<!doctype html>")
    p = tmp_path / "e.html"
    wide.save_html(p, lang="zh")
    assert "反向传播" in p.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.tmp"))


def test_failed_file_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, wide, monkeypatch):
    import chainrule.io

    p = tmp_path / "e.json"
    p.write_text("old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(chainrule.io.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        wide.save_json(p)
    monkeypatch.undo()
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["e.json"]


HALF_WIDTH_NEXT_TO_CHINESE = re.compile(r"[\u4e00-\u9fff]\s*[,:;!?]|[,:;!?]\s*[\u4e00-\u9fff]|\([\u4e00-\u9fff]")


@pytest.mark.parametrize("focus", [None, "2.weight[1,3]"])
def test_chinese_uses_full_width_punctuation(wide, focus):
    e = wide if focus is None else cr.explain.backprop(wide.derivation.layers, wide.derivation.examples[0].x,
                                                         wide.derivation.examples[0].target, weight=focus)
    text = e.text(lang="zh", width=200)
    bad = [line for line in text.splitlines() if HALF_WIDTH_NEXT_TO_CHINESE.search(line)]
    assert not bad, bad[:3]
    assert "；" in text and "：" in text and "，" in text


@pytest.mark.parametrize("cols", [40, 47, 53, 61, 72])
def test_chinese_lines_never_break_inside_a_word(wide, cols):
    """Every word (神经元, 反向传播, …) occurs as often in narrow text as in text too wide to wrap."""
    from chainrule.explain.zh import WORDS

    flat, narrow = wide.text(lang="zh", width=400), wide.text(lang="zh", width=cols)
    for word in WORDS:
        assert narrow.count(word) == flat.count(word), word
    assert narrow.count("神经元") > 3
    starts = [line.lstrip()[:1] for line in narrow.splitlines() if line.strip()]
    assert not set(starts) & set("，。、；：！？）"), "a line starts with closing punctuation"


def test_units_keep_words_and_glue_punctuation():
    from chainrule.explain.zh import fullwidth, units

    s = "每个神经元都是增益为 σ'(z) 的放大器。"
    assert "".join(units(s)) == s
    assert "神经元" in units(s) and "放大器。" in units(s)
    assert fullwidth("样本 1:  ∂z = 1 (对本层都相同; ∂z/∂b = 1)") == "样本 1：∂z = 1（对本层都相同；∂z/∂b = 1）"
    assert fullwidth("(l(w+ε) − l(w−ε))/2ε 核对, x: 1") == "(l(w+ε) − l(w−ε))/2ε 核对，x: 1"
