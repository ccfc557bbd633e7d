"""The HTML page, rendered by real headless Chromium: both drawings are there and visible.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); without it
this test fails rather than skips, because the page is the feature.
"""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain.network import seeded_network

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed (apt-get install chromium); the HTML page cannot be checked")
    return exe


def run_chromium(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class Neurons(HTMLParser):
    """(drawing, layer, index) of every <g class="neuron"> inside <svg class="forward|backward">."""

    def __init__(self):
        super().__init__()
        self.svg, self.found, self.svgs = None, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg = (a.get("class") or "").split()[0]  # "forward h" / "forward v": the two orientations
            self.svgs.append(self.svg)
        elif tag == "g" and self.svg and "neuron" in (a.get("class") or "").split():
            self.found.append((self.svg, int(a["data-layer"]), int(a["data-index"])))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None


def neurons(html: str) -> Neurons:
    p = Neurons()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("page")
    e = cr.explain.backprop(seeded_network([2, 2, 2, 2], "sigmoid", "mse", 0), [1.0, -1.0], [1.0, 0.0])
    path = d / "explain.html"
    e.save_html(path)
    return path


def expected(sizes):
    return {(layer, i) for layer in range(1, len(sizes)) for i in range(sizes[layer])}


def test_page_is_self_contained_with_both_drawings(page):
    html = page.read_text(encoding="utf-8")
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    p = neurons(html)
    assert p.svgs[:4] == ["forward", "forward", "backward", "backward"]
    want = expected([2, 2, 2, 2])
    for drawing in ("forward", "backward"):
        assert {(layer, i) for s, layer, i in p.found if s == drawing} == want, drawing


def test_chromium_parses_every_neuron_in_both_drawings(page, tmp_path):
    res = run_chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    p = neurons(res.stdout)
    want = expected([2, 2, 2, 2])
    for drawing in ("forward", "backward"):
        assert {(layer, i) for s, layer, i in p.found if s == drawing} == want, drawing
    assert "∂l/∂z¹₁" in res.stdout and "σ'(z) = " in res.stdout


def test_wide_network_page_has_every_neuron_and_a_chinese_version(tmp_path):
    sizes = [3, 5, 4, 3]
    e = cr.explain.backprop(seeded_network(sizes, "relu", "cross_entropy", 2), np.ones((2, 3)), np.array([0, 2]),
                            loss="cross_entropy")
    for lang in ("en", "zh"):
        html = e.html(lang=lang)
        p = neurons(html)
        for drawing in ("forward", "backward"):
            assert {(layer, i) for s, layer, i in p.found if s == drawing} == expected(sizes)
    zh = e.html(lang="zh")
    assert 'lang="zh-CN"' in zh
    for word in ("前向传播", "反向传播", "链式法则", "梯度下降"):
        assert word in zh
    assert "The backward pass" not in zh and "Example" not in zh
