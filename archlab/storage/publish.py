"""Publishing a set of files together: all of the new set, or all of the old one, never a mix.

A report is a page and the figures it links (``r.md`` + ``r_files/``); ``archlab rf --out DIR`` writes a set of
figures. Written one by one, a failure half-way (disk full on the second figure) would leave the old page beside
a new figure from another network. Here every file is first *staged* (written in full and flushed to disk beside
its target: the step that can fail for lack of space or permission); only then are they *committed* by renames,
which need no space. A failure while staging removes what was staged and leaves every old file as it was.

* :func:`publish_files` -- files in a folder the user owns: each staged as ``.NAME.*.tmp`` beside its target,
  then renamed over it (``remove``: old members of the set that the new set no longer has, deleted at commit);
* :func:`publish_folder` -- a folder archlab owns (a report's ``<stem>_files/``): the new folder is built in
  full beside it, then swapped in by two renames; files of the old folder that archlab did not write there (not
  ``keep_suffix``) move into the new one. The files that go with it (the page) are staged first and renamed
  right after the swap.

Every target must be a regular file or absent (:func:`archlab.storage.files.check_writable`); every problem is an
:class:`ArchlabError` naming the path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.storage.files import _umask, check_writable, file_mode

Payload = str | bytes


def publish_files(files: Mapping[Path, Payload], *, remove: Iterable[str | Path] = ()) -> list[str]:
    """Write ``files`` (path -> text or bytes) together; delete the paths in ``remove`` that are not among them.
    Returns the paths written, in order."""
    targets = {check_writable(p): data for p, data in files.items()}  # a symbolic link: the file it names
    stale = [Path(p) for p in remove if Path(p) not in targets]
    for path in stale:
        check_writable(path)
    staged = _stage(targets)
    try:
        for path, tmp in staged.items():
            _rename(tmp, path)
    finally:
        _discard(staged.values())
    for path in stale:
        path.unlink(missing_ok=True)
    return [str(p) for p in targets]


def publish_folder(
    folder: str | Path,
    contents: Mapping[str, Payload],
    *,
    with_files: Mapping[Path, Payload] | None = None,
    keep_suffix: str = ".png",
    create_empty: bool = False,
) -> list[str]:
    """Replace ``folder`` by one holding exactly ``contents`` (file name -> data) plus the old folder's files that
    do not end in ``keep_suffix`` (archlab's own files there are the ones it replaces); then ``with_files`` (the
    page linking the folder) are renamed into place. Without contents and without an old folder, nothing is made
    unless ``create_empty``. Returns the paths written: the folder's files, then ``with_files``."""
    folder = Path(folder)
    pages = {check_writable(p): data for p, data in (with_files or {}).items()}
    for name in contents:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ArchlabError(f"cannot write {folder / name}: not a plain file name")
    exists = _is_folder(folder)
    if not exists and not contents and not create_empty:
        return publish_files(pages)
    staged_pages = _stage(pages)
    new = None
    try:
        new = _build_folder(folder, contents)
        _swap(folder, new, exists, keep_suffix)
        new = None
        for page, tmp in staged_pages.items():
            _rename(tmp, page)
    finally:
        _discard(staged_pages.values())
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)
    return [str(folder / name) for name in contents] + [str(p) for p in pages]


# -- staging and committing ----------------------------------------------------------------------------------


def _stage(targets: Mapping[Path, Payload]) -> dict[Path, str]:
    """Each payload written in full to a temporary file beside its target (fsynced). All or nothing."""
    staged: dict[Path, str] = {}
    try:
        for path, data in targets.items():
            staged[path] = _write_temp(path.parent if str(path.parent) else Path("."), path.name, data)
    except BaseException:
        _discard(staged.values())
        raise
    return staged


def _write_temp(parent: Path, name: str, data: Payload) -> str:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
        os.chmod(tmp, file_mode(parent / name))
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        return tmp
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise ArchlabError(f"cannot write {parent / name}: {e.strerror or e}") from None


def _rename(tmp: str, path: Path) -> None:
    check_writable(path)  # a device or folder may have appeared meanwhile
    try:
        os.replace(tmp, path)
    except OSError as e:
        raise ArchlabError(f"cannot write {path}: {e.strerror or e}") from None


def _discard(paths: Iterable[str]) -> None:
    for tmp in paths:
        Path(tmp).unlink(missing_ok=True)


def _is_folder(folder: Path) -> bool:
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ArchlabError(f"cannot write into {folder}: it exists and is not a folder archlab made")
    return folder.is_dir()


def _build_folder(folder: Path, contents: Mapping[str, Payload]) -> Path:
    parent = folder.parent if str(folder.parent) else Path(".")
    try:
        new = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=parent))
        os.chmod(new, 0o777 & ~_umask())
    except OSError as e:
        raise ArchlabError(f"cannot create {folder}: {e.strerror or e}") from None
    try:
        for name, data in contents.items():
            os.replace(_write_temp(new, name, data), new / name)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return new


def _swap(folder: Path, new: Path, exists: bool, keep_suffix: str) -> None:
    """``new`` becomes ``folder``; the old folder's foreign files move into it; the old folder is removed."""
    if not exists:
        _move(new, folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=new.parent))
    old.rmdir()  # a fresh name for the old folder (rename needs the target absent)
    _move(folder, old)
    try:
        _move(new, folder)
    except BaseException:
        _move(old, folder)  # put the old set back
        raise
    stuck = False
    for entry in old.iterdir():
        if entry.name.endswith(keep_suffix) or (folder / entry.name).exists():
            continue
        try:
            os.replace(entry, folder / entry.name)
        except OSError:
            stuck = True  # a file archlab did not write and cannot move: the old folder stays, hidden, with it
    if not stuck:
        shutil.rmtree(old, ignore_errors=True)


def _move(src: Path, dst: Path) -> None:
    try:
        os.rename(src, dst)
    except OSError as e:
        raise ArchlabError(f"cannot replace {dst}: {e.strerror or e}") from None
