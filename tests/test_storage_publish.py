"""archlab.storage.publish: a set of files is published together: all of the new set or all of the old one. The
report's page + ``_files/`` and the rf figure set (issue 15: a report failing on its second figure left the old
page beside a new figure from another network)."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from archlab.errors import ArchlabError
from archlab.render.document import Document, Figure, Para, write_document
from archlab.storage import publish


def listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> text), temporary files included."""
    return {str(p.relative_to(folder)): p.read_bytes().decode() for p in sorted(folder.rglob("*")) if p.is_file()}


def fail_on(monkeypatch, nth: int):
    """Make the nth staged file fail as a full disk would."""
    real = publish._write_temp
    calls = [0]

    def write(parent, name, data):
        calls[0] += 1
        if calls[0] == nth:
            raise ArchlabError(f"cannot write {parent / name}: No space left on device")
        return real(parent, name, data)

    monkeypatch.setattr(publish, "_write_temp", write)


def test_files_are_written_and_stale_members_of_the_set_removed(tmp_path):
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "gone.txt").write_text("old member")
    (tmp_path / "mine.txt").write_text("the user's")
    written = publish.publish_files(
        {tmp_path / "a.txt": "new a", tmp_path / "b.txt": b"new b"},
        remove=[tmp_path / "gone.txt", tmp_path / "a.txt"],
    )
    assert written == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert listing(tmp_path) == {"a.txt": "new a", "b.txt": "new b", "mine.txt": "the user's"}


def test_a_failure_while_staging_leaves_every_old_file(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").write_text("old b")
    before = listing(tmp_path)
    fail_on(monkeypatch, 2)
    with pytest.raises(ArchlabError, match="No space left"):
        publish.publish_files({tmp_path / "a.txt": "new a", tmp_path / "b.txt": "new b"}, remove=[tmp_path / "a.txt"])
    assert listing(tmp_path) == before  # nothing new, nothing removed, no temporary file


def test_a_device_in_the_set_is_refused_before_anything_is_written(tmp_path):
    import os

    (tmp_path / "a.txt").write_text("old a")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ArchlabError, match="not a regular file"):
        publish.publish_files({tmp_path / "a.txt": "new a", tmp_path / "fifo": "x"})
    assert (tmp_path / "a.txt").read_text() == "old a"


def test_a_folder_is_swapped_in_whole_keeping_files_archlab_did_not_write(tmp_path):
    folder = tmp_path / "r_files"
    folder.mkdir()
    (folder / "old.png").write_text("old figure")
    (folder / "notes.txt").write_text("the user's notes")
    page = tmp_path / "r.md"
    page.write_text("old page")
    written = publish.publish_folder(folder, {"new.png": b"new figure"}, with_files={page: "new page"})
    assert written == [str(folder / "new.png"), str(page)]
    assert listing(tmp_path) == {
        "r.md": "new page",
        "r_files/new.png": "new figure",
        "r_files/notes.txt": "the user's notes",
    }


def test_a_failure_building_the_folder_leaves_the_old_page_and_figures(tmp_path, monkeypatch):
    folder = tmp_path / "r_files"
    folder.mkdir()
    (folder / "one.png").write_text("old one")
    (folder / "two.png").write_text("old two")
    page = tmp_path / "r.md"
    page.write_text("old page")
    before = listing(tmp_path)
    fail_on(monkeypatch, 3)  # the page is staged first, then one.png, then two.png: the disk fills up
    with pytest.raises(ArchlabError, match="No space left"):
        publish.publish_folder(folder, {"one.png": b"new one", "two.png": b"new two"}, with_files={page: "new"})
    assert listing(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md", "r_files"]  # no temporary folder left


def test_no_figures_and_no_folder_makes_no_folder(tmp_path):
    page = tmp_path / "r.md"
    assert publish.publish_folder(tmp_path / "r_files", {}, with_files={page: "text"}) == [str(page)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]


def test_a_file_where_the_folder_goes_is_refused(tmp_path):
    (tmp_path / "r_files").write_text("not a folder")
    with pytest.raises(ArchlabError, match="not a folder"):
        publish.publish_folder(tmp_path / "r_files", {"a.png": b"x"})
    assert (tmp_path / "r_files").read_text() == "not a folder"


def test_figure_names_must_be_plain(tmp_path):
    with pytest.raises(ArchlabError, match="plain file name"):
        publish.publish_folder(tmp_path / "r_files", {"../escape.png": b"x"})


# -- the report (render.document.write_document) and the rf figure set (render.erf_figures.save_figures) -------------


def report(tag: str, names=("one", "two")) -> Document:
    doc = Document(f"report {tag}")
    doc.add(Para(f"network {tag}"))
    for name in names:
        doc.add(Figure(name, f"{tag} {name}".encode(), alt=name))
    return doc


def test_a_report_that_fails_on_its_second_figure_leaves_the_old_report_whole(tmp_path, monkeypatch):
    page = tmp_path / "r.md"
    write_document(report("A"), page)
    before = listing(tmp_path)
    assert before["r_files/two.png"] == "A two" and "network A" in before["r.md"]
    fail_on(monkeypatch, 3)
    with pytest.raises(ArchlabError, match="No space left"):
        write_document(report("B"), page)
    assert listing(tmp_path) == before


def test_a_new_report_replaces_the_old_set_and_drops_its_stale_figures(tmp_path):
    page = tmp_path / "r.md"
    write_document(report("A", ("one", "two")), page)
    write_document(report("B", ("one",)), page)
    files = listing(tmp_path)
    assert files == {"r.md": files["r.md"], "r_files/one.png": "B one"}
    assert "network B" in files["r.md"] and "r_files/one.png" in files["r.md"]


def test_rf_figures_are_a_set(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from archlab.render import erf_figures

    def tiny_figure(study):
        fig = plt.figure(figsize=(1, 1))
        fig.text(0.5, 0.5, study.tag)
        return fig

    monkeypatch.setattr(erf_figures, "plot_units", tiny_figure)
    monkeypatch.setattr(erf_figures, "plot_heads", tiny_figure)
    both = SimpleNamespace(
        tag="A", grid=SimpleNamespace(maps={(0, 0): 1}), heads={"gap": SimpleNamespace(importance=1)}
    )
    out = tmp_path / "figs"
    files = erf_figures.save_figures(both, out, svg=True)
    assert sorted(Path(f).name for f in files) == ["rf_heads.png", "rf_heads.svg", "rf_units.png", "rf_units.svg"]
    (out / "mine.txt").write_text("the user's")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fail_on(monkeypatch, 2)
    with pytest.raises(ArchlabError):
        erf_figures.save_figures(both, out, svg=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.undo()  # the disk has room again
    monkeypatch.setattr(erf_figures, "plot_units", tiny_figure)
    units_only = SimpleNamespace(tag="B", grid=SimpleNamespace(maps={(0, 0): 1}), heads={})
    erf_figures.save_figures(units_only, out)
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt", "rf_units.png"]  # no figure of study A left
