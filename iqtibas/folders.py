"""One way to write a folder: into a staging sibling, then renamed into place.

The index and the offline model are both written this way, so a killed or failed build
leaves the previous folder as it was and never a half-written one where it is read.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING, PREVIOUS = "building", "previous"


@contextmanager
def atomic_folder(dest: Path) -> Iterator[Path]:
    """A fresh folder beside ``dest``; when the block succeeds it replaces ``dest``, else it goes
    and ``dest`` stays as it was.

    The staging and retired folders carry this process's id, so a later build can tell
    what a killed one left behind and clear it (see :func:`remove_abandoned`).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(dest)
    staging = dest.parent / f".{dest.name}.{STAGING}-{os.getpid()}"
    retired = dest.parent / f".{dest.name}.{PREVIOUS}-{os.getpid()}"
    remove_tree(staging)
    staging.mkdir()
    try:
        yield staging
        if dest.exists():
            dest.rename(retired)
        staging.rename(dest)
    except BaseException:
        if retired.exists() and not dest.exists():
            retired.rename(dest)
        raise
    finally:
        remove_tree(staging)
    remove_tree(retired)


def remove_tree(folder: Path) -> None:
    """Remove a folder of ours, making read-only folders in it writable first; what still cannot go
    is left for the next build to clear."""
    def make_writable_and_retry(function, name, _):
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            function(name)
        except OSError:
            pass

    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder, onerror=make_writable_and_retry)


def remove_abandoned(dest: Path) -> None:
    """Clear what killed builds of ``dest`` left behind.

    A staging folder is removed; a retired folder is put back if its build was killed
    between its two renames (so ``dest`` is missing), else removed.
    """
    for folder in sorted(dest.parent.glob(f".{dest.name}.*-*")):
        pid = folder.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        if folder.name.startswith(f".{dest.name}.{PREVIOUS}-") and not dest.exists():
            folder.rename(dest)
        else:
            remove_tree(folder)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a folder of our own is left over from an earlier, failed build
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
