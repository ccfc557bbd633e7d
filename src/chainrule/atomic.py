"""Every file chainrule writes goes through here: all at once or not at all.

A write goes to a temporary file in the target's folder, is flushed to disk
and renamed over the target in one step, so a crash, a kill or an error
mid-write leaves the previous file as it was. ``fault_hook`` lets tests stop
the writer between any two steps (and kill it there) deterministically.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

# Called with a step name before each step of a write; tests raise or SIGKILL inside it.
fault_hook: Callable[[str], None] | None = None


def step(name: str) -> None:
    """Mark the point between two writes where an interruption must be harmless."""
    if fault_hook is not None:
        fault_hook(name)


def atomic_write(path: str | os.PathLike, data: bytes | str, follow_symlinks: bool = True) -> None:
    """Replace ``path`` by ``data`` all at once (text is written as UTF-8).

    A symlink's target is replaced, as ``open(path, "w")`` would; with
    ``follow_symlinks=False`` the link itself is (how a run folder's own files
    are written, so a planted link cannot redirect a write outside the folder).
    An OSError names ``path``, never the temporary file.
    """
    blob = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    path = Path(os.path.realpath(path)) if follow_symlinks and os.path.islink(path) else Path(path)
    try:
        _replace(path, blob)
    except OSError as e:
        if e.errno is None or e.filename == str(path):
            raise
        raise type(e)(e.errno, e.strerror, str(path)) from None


def _replace(path: Path, blob: bytes) -> None:
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it 0600; a file should get the usual permissions
        with os.fdopen(fd, "wb") as f:
            step(f"write {path.name}")
            f.write(blob)
            f.flush()
            step(f"fsync {path.name}")
            os.fsync(f.fileno())
        step(f"rename {path.name}")
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    fsync_dir(folder)


def write_figure(fig, path: str | os.PathLike, dpi: int = 100, follow_symlinks: bool = True) -> None:
    """A matplotlib figure as a PNG, rendered in memory and then written atomically."""
    from io import BytesIO

    blob = BytesIO()
    fig.savefig(blob, format="png", dpi=dpi)
    atomic_write(path, blob.getvalue(), follow_symlinks)


def write_new(path: Path, blob: bytes) -> None:
    """Write a file that nothing reads yet (inside a folder not yet published), durably."""
    step(f"write {path.name}")
    with open(path, "xb") as f:
        f.write(blob)
        f.flush()
        step(f"fsync {path.name}")
        os.fsync(f.fileno())


def point(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target`` (relative to the link's folder), switching in one rename."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    _unlink(tmp)
    os.symlink(target, tmp)
    try:
        step(f"switch {link.name}")
        os.replace(tmp, link)
    except BaseException:
        _unlink(tmp)
        raise
    fsync_dir(link.parent)


def publish(folder: Path, name: str) -> Path:
    """Rename a finished temporary folder to ``name`` beside it, durably; returns the new path."""
    fsync_dir(folder)
    final = folder.with_name(name)
    step(f"rename {name}")
    os.rename(folder, final)
    fsync_dir(final.parent)
    return final


def fsync_dir(folder: Path) -> None:
    """Make renames inside ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
