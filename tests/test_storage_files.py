"""archlab.storage.files: writes never replace a device, FIFO, socket or folder, never leave a half-written file,
and every refusal is one ArchlabError naming the path (issue 15: `-o /dev/null` as root replaced the device)."""

import os
import socket
import stat

import pytest

from archlab.errors import ArchlabError
from archlab.storage.files import check_writable, write_atomic
from tests.helpers.bounded import archlab, one_error_line, write_tiny

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")


def test_a_regular_file_is_replaced_whole_and_gets_the_usual_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    write_atomic(target, "new text")
    assert target.read_text() == "new text"
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ArchlabError, match="not a regular file") as e:
        write_atomic(fifo, "x")
    assert str(fifo) in str(e.value)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        with pytest.raises(ArchlabError, match="not a regular file"):
            write_atomic(path, "x")
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        s.close()


@needs_root
def test_a_device_node_is_refused_and_stays_a_device(tmp_path):
    dev = tmp_path / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    with pytest.raises(ArchlabError, match="not a regular file"):
        write_atomic(dev, "x")
    mode = os.stat(dev).st_mode
    assert stat.S_ISCHR(mode) and os.stat(dev).st_rdev == os.makedev(1, 3)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ArchlabError, match="it is a folder"):
        write_atomic(tmp_path, "x")


def test_an_empty_name_is_refused_in_plain_words():
    with pytest.raises(ArchlabError, match="empty file name"):
        check_writable("")
    with pytest.raises(ArchlabError, match="empty file name"):
        write_atomic("", "x")


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ArchlabError, match="does not exist") as e:
        write_atomic(tmp_path / "nope" / "out.txt", "x")
    assert "nope" in str(e.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_error_and_leaves_nothing(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "out.txt").write_text("old")
    folder.chmod(0o555)
    try:
        with pytest.raises(ArchlabError, match="cannot write") as e:
            write_atomic(folder / "out.txt", "new")
        assert "out.txt" in str(e.value)
        assert (folder / "out.txt").read_text() == "old"
        assert sorted(p.name for p in folder.iterdir()) == ["out.txt"]
    finally:
        folder.chmod(0o755)


def test_a_read_only_folder_as_root_too(tmp_path, monkeypatch):
    """Root ignores folder permissions: the temp file is made inside the error boundary, whatever fails."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ArchlabError, match="cannot write .*out.txt: Permission denied"):
        write_atomic(tmp_path / "out.txt", "x")


# -- through the CLI (issue 15's corpus: `archlab profile tiny.yaml -o DEVICE`) ---------------------------------


def test_cli_output_to_a_fifo_is_refused_with_the_path(tmp_path):
    tiny = write_tiny(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    line = one_error_line(archlab("profile", tiny, "-o", fifo, timeout=60))
    assert str(fifo) in line and "not a regular file" in line
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@needs_root
def test_cli_output_to_a_device_node_is_refused_and_the_node_survives(tmp_path):
    tiny = write_tiny(tmp_path)
    dev = tmp_path / "full"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # the same device as /dev/full
    line = one_error_line(archlab("profile", tiny, "-o", dev, timeout=60))
    assert str(dev) in line
    assert stat.S_ISCHR(os.stat(dev).st_mode) and os.stat(dev).st_rdev == os.makedev(1, 7)


def test_cli_output_to_an_empty_name_says_so(tmp_path):
    tiny = write_tiny(tmp_path)
    line = one_error_line(archlab("profile", tiny, "-o", "", timeout=60, cwd=tmp_path))
    assert "busy" not in line
    assert "empty file name" in line or "it is a folder; give a file name (an empty file name?)" in line


def test_a_symlink_is_followed_and_a_files_mode_is_kept(tmp_path):
    """-o onto a symbolic link replaces the file it names (the link stays), as a shell's > does; a file written
    again keeps its permissions (a 0600 result stays private)."""
    target = tmp_path / "target.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    private = tmp_path / "private.txt"
    private.write_text("x")
    private.chmod(0o600)
    write_atomic(private, "y")
    assert private.read_text() == "y" and (private.stat().st_mode & 0o777) == 0o600
