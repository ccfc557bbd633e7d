"""The page at a desktop's width (1400 px) and a phone's (400 px), measured in headless Chromium.

Through the DOM: the document is never wider than the window, every label of the drawings
is drawn at 10 px or more, no two labels overlap.  The stepper steps with the arrow keys,
and without JavaScript every step is listed.  Screenshots are kept as test artefacts (the
test's tmp folder, and $CHAINRULE_ARTEFACTS when set) for a person to look at.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain.network import seeded_network

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

MEASURE = """<script>
window.addEventListener("load", function () {
  function box(r) { return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; }
  var out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, labels: [], text: []};
  var svgs = Array.prototype.slice.call(document.querySelectorAll("svg"));
  document.querySelectorAll("svg text").forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (!r.width || !t.textContent.trim()) return;
    var px = parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a;
    out.labels.push({s: t.textContent, px: px, svg: svgs.indexOf(t.ownerSVGElement), b: box(r)});
  });
  document.querySelectorAll("body *:not(svg):not(svg *)").forEach(function (e) {
    var own = Array.prototype.some.call(e.childNodes, function (n) { return n.nodeType === 3 && n.data.trim(); });
    if (own && e.getClientRects().length) out.text.push({s: e.textContent.slice(0, 40),
                                                         px: parseFloat(getComputedStyle(e).fontSize)});
  });
  var steps = document.querySelectorAll(".walk ol.steps > li");
  out.steps = steps.length;
  out.visibleSteps = Array.prototype.filter.call(steps, function (li) { return li.getClientRects().length; }).length;
  KEYS
  parent.postMessage(JSON.stringify({key: window.name, out: out}), "*");
});
</script>"""

# Each page runs in an iframe exactly `width` CSS pixels wide (headless Chromium will not make a window
# narrower than 500 px), all in one browser; each posts its measurements to this wrapper, which writes
# them into its own DOM for --dump-dom.
WRAPPER = """<!doctype html><html><body style="margin:0">
FRAMES
<script>window.addEventListener("message", function (e) {
  var pre = document.createElement("pre"); pre.className = "measure"; pre.textContent = e.data;
  document.body.appendChild(pre);
});</script></body></html>"""

# press → twice, then ← once: the stepper must be at step 2 and light up that step's nodes
KEYS = """
  function press(k) { document.dispatchEvent(new KeyboardEvent("keydown", {key: k})); }
  press("ArrowRight"); press("ArrowRight"); press("ArrowLeft");
  var cur = document.querySelector(".walk li.current");
  out.step = cur ? Array.prototype.indexOf.call(cur.parentNode.children, cur) : -1;
  out.pos = (document.querySelector(".walk .pos") || {}).textContent;
  out.lit = Array.prototype.map.call(document.querySelectorAll("figure.main .lit"), function (e) {
    return e.getAttribute("data-k"); });
  out.keys = cur ? cur.getAttribute("data-keys") : "";
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium); the page cannot be checked")
    return exe


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def keep(png: Path) -> None:
    """Copy a screenshot to $CHAINRULE_ARTEFACTS, where CI or a reviewer collects it."""
    where = os.environ.get("CHAINRULE_ARTEFACTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(where) / png.name)


def without_script(html: str) -> str:
    """The page as a browser with JavaScript off runs it."""
    return re.sub(r"<script>.*?</script>", "", html, flags=re.S)


def measure_all(cases: dict, tmp: Path) -> dict:
    """{key: measurements} for {key: (page, width, with JavaScript)}, in one Chromium run."""
    from html import unescape

    frames = []
    for key, (page, width, js) in cases.items():
        html = page.read_text(encoding="utf-8")
        if not js:
            html = without_script(html)
        probe = tmp / f"probe-{key}.html"
        probe.write_text(html.replace("</body>", MEASURE.replace("KEYS", KEYS if js else "") + "</body>"),
                         encoding="utf-8")
        frames.append(f'<iframe name="{key}" src="{probe.name}" style="border:0;width:{width}px;height:1000px">'
                      "</iframe>")
    wrapper = tmp / "wrapper.html"
    wrapper.write_text(WRAPPER.replace("FRAMES", "\n".join(frames)), encoding="utf-8")
    res = run_chromium(["--dump-dom", "--virtual-time-budget=10000", "--window-size=1600,1100", wrapper.as_uri()],
                       tmp / "profile-measure")
    found = [json.loads(unescape(m)) for m in re.findall(r'<pre class="measure">(.*?)</pre>', res.stdout, re.S)]
    got = {f["key"]: f["out"] for f in found}
    assert set(got) == set(cases), f"no measurement from Chromium for {set(cases) - set(got)}: {res.stderr[-1500:]}"
    return got


def overlapping(labels: list[dict], slack: float = 1.0) -> list[tuple[str, str]]:
    bad = []
    for k, a in enumerate(labels):
        for b in labels[k + 1:]:
            if a["svg"] != b["svg"]:
                continue
            (a0, a1, a2, a3), (b0, b1, b2, b3) = a["b"], b["b"]
            if min(a2, b2) - max(a0, b0) > slack and min(a3, b3) - max(a1, b1) > slack:
                bad.append((a["s"], b["s"]))
    return bad


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The default page in both languages, and a --weight page of a wider network."""
    d = tmp_path_factory.mktemp("pages")
    lecture = cr.explain.preset("lecture").explain()
    paths = {"lecture-en": d / "lecture-en.html", "lecture-zh": d / "lecture-zh.html", "focus-en": d / "focus-en.html"}
    lecture.save_html(paths["lecture-en"])
    lecture.save_html(paths["lecture-zh"], lang="zh")
    rng = np.random.default_rng(3)
    wide = cr.explain.backprop(seeded_network([12, 10, 8, 4], "relu", "cross_entropy", 3), rng.normal(size=(2, 12)),
                               np.array([1, 3]), loss="cross_entropy", weight="2.weight[3,5]")
    wide.save_html(paths["focus-en"])
    from chainrule.explain.graph import example

    model, f = example()
    paths["graph-en"] = d / "graph-en.html"
    cr.explain.graph(f(), names=model, follow="conv.weight[0,0,1,1]").save_html(paths["graph-en"])
    return paths


NAMES = ["lecture-en", "lecture-zh", "focus-en", "graph-en"]


@pytest.fixture(scope="module")
def measured(pages, tmp_path_factory) -> dict:
    cases = {f"{name}-{width}": (pages[name], width, True) for name in NAMES for width in (1400, 400)}
    cases["lecture-en-400-nojs"] = (pages["lecture-en"], 400, False)
    return measure_all(cases, tmp_path_factory.mktemp("measure"))


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("name", NAMES)
def test_page_fits_the_window_with_readable_labels_that_do_not_overlap(measured, width, name):
    m = measured[f"{name}-{width}"]
    assert m["scrollWidth"] <= m["innerWidth"] == width, "the document is wider than the window"
    assert len(m["labels"]) > (16 if name == "graph-en" else 30), "the drawings are not there"
    small = [(lab["s"], round(lab["px"], 1)) for lab in m["labels"] if lab["px"] < 10]
    assert not small, small[:5]
    tiny = [(t["s"], t["px"]) for t in m["text"] if t["px"] < 10]
    assert not tiny, tiny[:5]
    clash = overlapping(m["labels"])
    assert not clash, clash[:5]
    if name == "graph-en":
        return  # the graph page has no walk
    # arrow keys step: → → ← leaves step 2 of the walk, and exactly its keys are lit
    assert m["step"] == 1 and m["pos"].startswith("2 / ") and m["visibleSteps"] == 1  # one step at a time
    assert set(m["lit"]) == set(m["keys"].split()) and m["lit"]


def test_screenshots_at_both_widths_with_and_without_javascript(pages, tmp_path):
    from PIL import Image

    shots = {}
    for name, width, js in (("lecture-en", 1400, True), ("lecture-en", 400, True), ("lecture-zh", 400, True),
                            ("lecture-en", 400, False)):
        png = tmp_path / f"{name}-{width}{'' if js else '-nojs'}.png"
        page = pages[name]
        if not js:  # the page as a browser without JavaScript sees it (headless cannot screenshot with it off)
            page = tmp_path / f"{name}-nojs.html"
            page.write_text(without_script(pages[name].read_text(encoding="utf-8")), encoding="utf-8")
        res = run_chromium([f"--screenshot={png}", f"--window-size={width},2400", page.as_uri()],
                           tmp_path / f"profile-{png.stem}")
        assert png.is_file(), res.stderr[-2000:]
        keep(png)
        shots[png.stem] = np.asarray(Image.open(png).convert("RGB"))
    print("screenshots in", tmp_path)
    for stem, img in shots.items():
        assert img.std() > 20, f"{stem} is (nearly) blank"
        # forward neurons (indigo) and σ'(z) amplifiers (yellow) are painted at both widths
        assert _count(img, (0xee, 0xf2, 0xff), 3) > 2000, f"{stem}: forward neurons not painted"
        assert _count(img, (0xfd, 0xe6, 0x8a), 8) > 300, f"{stem}: amplifiers not painted"
    # at 400 px the drawing is laid out top to bottom: the input row sits above layer 1's row
    phone = shots["lecture-en-400"]
    rows = np.nonzero((np.abs(phone.astype(int) - [0xee, 0xf2, 0xff]).max(-1) <= 3).sum(1) > 60)[0]
    assert rows.max() - rows.min() > 300, "the phone drawing is not stacked vertically"


def _count(img: np.ndarray, rgb: tuple, tol: int) -> int:
    return int((np.abs(img[..., :3].astype(int) - np.array(rgb)).max(axis=-1) <= tol).sum())


def test_without_javascript_every_step_is_listed_and_nothing_is_hidden(pages, measured, width=400):
    html = pages["lecture-en"].read_text(encoding="utf-8")
    steps = re.findall(r'<li data-fig="(forward|backward)"', html)
    assert steps.count("forward") == 7 and steps.count("backward") == 6  # 6 neurons each way, and the loss
    m = measured["lecture-en-400-nojs"]
    assert m["steps"] == m["visibleSteps"] == 13
    assert m["scrollWidth"] <= width and not [lab for lab in m["labels"] if lab["px"] < 10]
    assert len(m["labels"]) > 30 and not overlapping(m["labels"])
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "@import" not in html and "url(http" not in html


def test_every_number_in_the_drawings_says_where_it_came_from(pages):
    from html import unescape

    html = unescape(pages["lecture-en"].read_text(encoding="utf-8"))
    assert "<title>z¹₁ = Σⱼ w¹₁ⱼ·xⱼ + b¹₁ = 1·1 + (−2)·(−1) + 1 = 4\na¹₁ = σ(z¹₁) = 0.982</title>" in html
    assert "<title>∂l/∂z³₁ = σ'(z³₁) × ∂l/∂a³₁ = 0.2361 × (−0.3823) = −0.09028</title>" in html
    assert re.search(r"title=\"1 − 0.5 × \(?−?0\.\d+\)? = 1\.?\d*\"", html)  # w¹₁₁: θ⁰ − η·∂L/∂θ
    assert 'title="∂z¹₁/∂w · ∂l/∂z¹₁ = 1 × ' in html


def test_chinese_page_names_a_font_to_install_and_keeps_words_whole(pages):
    zh = pages["lecture-zh"].read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in zh and "Microsoft YaHei" in zh and "PingFang SC" in zh
    assert "sudo apt install fonts-noto-cjk" in zh and 'class="fonthint"' in zh
    assert '<span class="nw">神经元</span>' in zh
    assert '<span class="nw">∂l/∂z¹₁</span>' in zh or '<span class="nw">∂l/∂z¹₁)</span>' in zh
