"""Shell completion (bash, zsh, fish) through click's own machinery: ``archlab --show-completion`` prints the
script for the current shell (``$SHELL``), ``archlab --install-completion`` adds one line to its start-up file."""

from __future__ import annotations

import os
from pathlib import Path

from archlab.errors import ArchlabError

RC_FILES = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/completions/archlab.fish"}


def _shell() -> str:
    shell = Path(os.environ.get("SHELL", "bash")).name
    if shell not in RC_FILES:
        raise ArchlabError(f"shell completion supports {', '.join(RC_FILES)}, not {shell!r} ($SHELL)")
    return shell


def show_completion(cli) -> str:
    """The completion script of the click command ``cli`` for the current shell."""
    from click.shell_completion import get_completion_class

    shell = _shell()
    cls = get_completion_class(shell)
    assert cls is not None
    return cls(cli, {}, "archlab", "_ARCHLAB_COMPLETE").source()


def install_completion(cli) -> str:
    shell = _shell()
    rc = Path(os.path.expanduser(RC_FILES[shell]))
    if shell == "fish":
        rc.parent.mkdir(parents=True, exist_ok=True)
        rc.write_text(show_completion(cli), encoding="utf-8")
        return f"installed completion for fish in {rc}"
    line = f'eval "$(_ARCHLAB_COMPLETE={shell}_source archlab)"'
    text = rc.read_text(encoding="utf-8") if rc.is_file() else ""
    if line not in text:
        with rc.open("a", encoding="utf-8") as f:
            f.write(f"\n# archlab shell completion\n{line}\n")
    return f"installed completion for {shell} in {rc} (open a new shell)"
