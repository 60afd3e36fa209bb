"""One way to write a folder: into a staging sibling, then renamed into place.

The index and the offline model are both written this way, so a killed or failed build
leaves the previous folder as it was and never a half-written one where it is read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING, PREVIOUS = "building", "previous"


@contextmanager
def atomic_folder(dest: Path) -> Iterator[Path]:
    """A fresh folder beside ``dest``; when the block succeeds it replaces ``dest``, else it goes.

    The staging and retired folders carry this process's id, so a later build can tell
    what a killed one left behind and clear it (see :func:`remove_abandoned`).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(dest)
    staging = dest.parent / f".{dest.name}.{STAGING}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        retired = dest.parent / f".{dest.name}.{PREVIOUS}-{os.getpid()}"
        if dest.exists():
            dest.rename(retired)
        staging.rename(dest)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
            shutil.rmtree(folder, ignore_errors=True)


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
