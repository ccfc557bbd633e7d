"""The dependency story: what the main job needs is installed with the package; a missing optional
part (matplotlib) is one line naming the extra, before any work, or the run goes on without it and says so."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule import extras
from chainrule.errors import ChainruleError

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
SMALL = ["--layers", "64,8,10", "--epochs", "1", "--batch-size", "256"]


def _without(module: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`chainrule argv` in a fresh interpreter in which ``module`` cannot be imported."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            f"from chainrule.cli import main\nsys.exit(main({argv!r}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _toml(path: Path) -> dict:
    import tomllib

    return tomllib.loads(path.read_text())


def test_main_job_dependencies_install_with_the_package():
    deps = " ".join(_toml(PYPROJECT)["project"]["dependencies"])
    for needed in ("numpy", "safetensors", "tqdm"):
        assert needed in deps, f"{needed} must be a dependency of the package itself, not an extra"
    assert "matplotlib" not in deps


def test_every_optional_module_has_an_extra_that_installs_it():
    table = _toml(PYPROJECT)["project"]["optional-dependencies"]
    for module, (extra, _) in extras.OPTIONAL.items():
        assert extra in table, f"extras.OPTIONAL names [{extra}], which pyproject.toml does not define"
        assert any(req.startswith(module) for req in table[extra]), (module, table[extra])


def test_require_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert not extras.available("matplotlib")
    with pytest.raises(extras.MissingDependency, match=r'pip install "chainrule\[plot\]"') as e:
        extras.require("matplotlib", "drawing")
    assert isinstance(e.value, ChainruleError) and isinstance(e.value, ImportError)


def test_train_without_matplotlib_goes_on_and_says_so(tmp_path):
    out = tmp_path / "run"
    done = _without("matplotlib", ["train", *SMALL, "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert 'matplotlib is not installed, so curves.png is not drawn (pip install "chainrule[plot]")' in done.stdout
    assert (out / "model.safetensors").stat().st_size > 0 and not (out / "curves.png").exists()
    assert "curves.png" not in done.stdout.splitlines()[-2]  # the summary lists only what was written
    done = _without("matplotlib", ["evaluate", str(out)], tmp_path)
    assert done.returncode == 0 and "accuracy" in done.stdout, done.stderr


def test_evaluate_plot_without_matplotlib_is_one_line_before_work(tmp_path):
    out = tmp_path / "run"
    assert _without("matplotlib", ["train", *SMALL, "--out", str(out)], tmp_path).returncode == 0
    done = _without("matplotlib", ["evaluate", str(out), "--plot"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing evaluated before the check
    assert done.stderr.strip().splitlines() == [
        'chainrule evaluate: error: chainrule evaluate --plot needs matplotlib, which is not installed: '
        'pip install "chainrule[plot]"']
    assert json.loads((out / "config.json").read_text())["epochs"] == 1


def test_readme_test_command_is_what_ci_runs():
    """The README's second line and .ci/run install the same things, through one script."""
    readme = (ROOT / "README.md").read_text().splitlines()
    setup = "bash scripts/install-test-deps.sh && python -m pytest"
    assert readme[4].endswith(setup), readme[4]
    assert any(line.strip() == setup for line in (ROOT / ".ci" / "run").read_text().splitlines())
    script = (ROOT / "scripts" / "install-test-deps.sh").read_text()
    assert "apt-get install" in script and "chromium" in script and '-e ".[test]"' in script


def test_user_docs_do_not_point_outside_the_repository():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        assert "../shared" not in text and "DESIGN.md" not in text, doc
