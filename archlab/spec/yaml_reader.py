"""Reading YAML table files: a safe loader whose mappings remember the line they start on."""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError, TableError


class LineDict(dict):
    """A mapping read from YAML that remembers the line it starts on."""

    line: int | None = None


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise TableError(f"duplicate key {key!r}", line=key_node.start_mark.line + 1, field=str(key))
            seen.add(key)
        d = LineDict(loader.construct_mapping(node, deep=True))
        d.line = node.start_mark.line + 1
        return d

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def read_yaml(path: Path) -> LineDict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ArchlabError(f"cannot read table file: {e.strerror or e}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ArchlabError("not a UTF-8 text file", file=str(path)) from None
    try:
        data = yaml.load(text, Loader=_loader())
    except TableError as e:
        raise e.located(file=str(path)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise TableError(
            f"YAML syntax error: {problem}", file=str(path), line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, LineDict):
        raise TableError("a table file must be a mapping with at least `name` and `rows`", file=str(path))
    return data
