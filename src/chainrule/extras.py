"""Optional libraries and the extra that installs each: one table, so a missing part is named in one line
before any work starts, never as an ImportError traceback halfway through a run."""
from __future__ import annotations

import importlib.util

from .errors import ChainruleError

# module -> (pip extra, what chainrule uses it for)
OPTIONAL = {
    "matplotlib": ("plot", "plots (curves.png, confusion matrices)"),
}


class MissingDependency(ChainruleError, ImportError):
    """An optional library is not installed; the message gives the pip line that adds it."""


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (cheap enough for start-up checks)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def install_line(module: str) -> str:
    extra, _ = OPTIONAL[module]
    return f'pip install "chainrule[{extra}]"'


def require(module: str, wanted_for: str) -> None:
    """Raise MissingDependency naming the extra if ``module`` is missing; call it before work starts."""
    if not available(module):
        raise MissingDependency(f"{wanted_for} needs {module}, which is not installed: {install_line(module)}")


def missing_note(module: str, consequence: str) -> str:
    """The one line a run prints when it goes on without an optional part."""
    return f"note: {module} is not installed, so {consequence} ({install_line(module)})"
