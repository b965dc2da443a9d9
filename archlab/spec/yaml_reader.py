"""Reading YAML table files: a safe loader whose mappings remember the line they start on.

The document is built from the YAML parser's events (libyaml's C parser, ``yaml.CSafeLoader``, when PyYAML has
it; else PyYAML's pure-Python parser) by a small iterative builder, so every limit holds *before* anything large
is made:

* an alias (``*k``) is a copy of what its anchor names; an alias of a mapping or a list counts every value it
  copies, so nine anchors of nine aliases each (the "billion laughs", 9**9 items) are refused at the limit
  below before they are built; an alias inside its own anchor is refused;
* at most :data:`MAX_VALUES` values (scalars, mappings, lists, counting what aliases copy) and :data:`MAX_BYTES`
  bytes of text: far above any real table (a 20,000-row table has about 250,000 values and 1 MB), and small
  enough to be read in a few seconds;
* at most :data:`MAX_DEPTH` levels of nesting (a table needs 5), so nothing recurses deeply;
* mapping keys are scalars of at most :data:`MAX_KEY` characters, never repeated in one mapping;
* only the standard scalar tags (str, int, float, bool, null, timestamp) and ``!!map``/``!!seq``; no merge keys.

Scalars are resolved with PyYAML's own safe rules (``yes`` is true, ``1e3`` is a string in YAML 1.1, ...),
cached by their text. Every error is a :class:`TableError` with the line, its values shown by
:func:`archlab.spec.reprs.bounded_repr`.
"""

from __future__ import annotations

import os
from pathlib import Path

from archlab.errors import ArchlabError, TableError
from archlab.spec.reprs import bounded_repr

MAX_BYTES = 8 * 2**20
MAX_VALUES = 1_000_000
MAX_DEPTH = 32
MAX_KEY = 200
SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
MAP_TAG, SEQ_TAG, MERGE_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge"


class LineDict(dict):
    """A mapping read from YAML that remembers the line it starts on."""

    line: int | None = None


class _Collection:
    """What an anchor on a mapping or list records: its line while it is being read, then the finished
    container and how many values it holds (what an alias of it costs)."""

    def __init__(self, line: int | None) -> None:
        self.line = line
        self.container: dict | list | None = None
        self.size = 0


def read_yaml(path: Path) -> LineDict:
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise TableError(f"the file has {size:,} bytes; a table file may have at most {MAX_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except TableError as e:
        raise e.located(file=str(path)) from None
    except OSError as e:
        raise ArchlabError(f"cannot read table file: {e.strerror or e}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ArchlabError("not a UTF-8 text file", file=str(path)) from None
    data = parse_yaml(text, str(path))
    if not isinstance(data, LineDict):
        raise TableError("a table file must be a mapping with at least `name` and `rows`", file=str(path))
    return data


def parse_yaml(text: str, file: str | None = None):
    """The document in ``text`` (mappings as :class:`LineDict`), within the limits of the module docstring."""
    import yaml

    loader = _loader_class()(text)
    try:
        return _Builder(loader).document()
    except TableError as e:
        raise e.located(file=file) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise TableError(
            f"YAML syntax error: {_cut(problem)}",
            file=file,
            line=mark.line + 1 if mark else None,
        ) from None
    finally:
        loader.dispose()


def _loader_class():
    import yaml

    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class _Builder:
    """Python values from the parser's events, with an explicit stack (no recursion)."""

    def __init__(self, loader) -> None:
        import yaml
        from yaml import events, nodes

        self.loader = loader
        self.events = events
        self.scalar_node = nodes.ScalarNode
        self.constructor = yaml.SafeLoader("")  # its scalar constructors (the C loader's are the same)
        self.resolved: dict[tuple, object] = {}  # (tag or None, text, implicit) -> value
        self.anchors: dict[str, object] = {}
        self.values = 0

    def document(self):
        ev = self.events
        get = self.loader.get_event
        event = get()
        if isinstance(event, ev.StreamStartEvent):
            event = get()
        if isinstance(event, ev.StreamEndEvent):
            return None
        data = self._content(get)
        event = get()
        if not isinstance(event, ev.StreamEndEvent):
            raise TableError("a table file holds one YAML document (found a second `---`)", line=_line(event))
        return data

    def _content(self, get):
        """The contents of one document: from after DocumentStart to DocumentEnd."""
        ev = self.events
        root: list = []
        stack: list = [(root, None, 0, 0)]  # (container, anchor, line, values before it); pending keys in keys
        keys: list = [None]
        while True:
            event = get()
            cls = event.__class__
            if cls is ev.DocumentEndEvent:
                return root[0] if root else None
            if cls is ev.MappingEndEvent or cls is ev.SequenceEndEvent:
                container, anchor, line, before = stack.pop()
                keys.pop()
                if anchor is not None:
                    self._finish_anchor(anchor, container, self.values - before)
                self._add(stack[-1][0], keys, container, event, line)
                continue
            self.values += 1
            if self.values > MAX_VALUES:
                raise TableError(f"more than {MAX_VALUES:,} values in one file (a table needs far fewer)")
            if cls is ev.ScalarEvent:
                value = self._scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = value
            elif cls is ev.AliasEvent:  # its ``anchor`` is the name it refers to
                value = self._alias(event)
            elif cls is ev.MappingStartEvent or cls is ev.SequenceStartEvent:
                self._start(event, stack, keys)
                continue
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise TableError(f"unexpected YAML event {cls.__name__}", line=_line(event))
            self._add(stack[-1][0], keys, value, event, _line(event))

    def _start(self, event, stack: list, keys: list) -> None:
        line = _line(event)
        if len(stack) > MAX_DEPTH:
            raise TableError(f"nested more than {MAX_DEPTH} levels deep (a table needs 5)", line=line)
        parent = stack[-1][0]
        if isinstance(parent, LineDict) and keys[-1] is None:
            raise TableError("a mapping key must be a scalar, not a mapping or a list", line=line)
        is_map = event.__class__ is self.events.MappingStartEvent
        tag = event.tag
        if tag not in (None, "!", MAP_TAG if is_map else SEQ_TAG):
            raise TableError(f"unsupported YAML tag {_tag(tag)}", line=line)
        container: LineDict | list = LineDict() if is_map else []
        if isinstance(container, LineDict):
            container.line = line
        if event.anchor is not None:
            self.anchors[event.anchor] = _Collection(line)
        stack.append((container, event.anchor, line, self.values))
        keys.append(None)

    def _add(self, parent, keys: list, value, event, line) -> None:
        if isinstance(parent, LineDict):
            key = keys[-1]
            if key is None:
                if isinstance(value, (dict, list)):
                    raise TableError("a mapping key must be a scalar, not a mapping or a list", line=line)
                self._check_key(value, parent, line)
                keys[-1] = (value,)
                return
            parent[key[0]] = value
            keys[-1] = None
        else:
            parent.append(value)

    def _check_key(self, key, mapping: dict, line) -> None:
        if isinstance(key, str) and len(key) > MAX_KEY:
            raise TableError(f"a key of {len(key):,} characters (at most {MAX_KEY})", line=line)
        if key in mapping:
            raise TableError(f"duplicate key {bounded_repr(key)}", line=line, field=str(key)[:60])
        try:
            hash(key)
        except TypeError:
            raise TableError(f"a mapping key must be a scalar, got {bounded_repr(key)}", line=line) from None

    def _scalar(self, event):
        tag, text, implicit = event.tag, event.value, event.implicit
        if tag == "!":  # the non-specific tag: resolved as PyYAML's composer does
            tag = None
        cache_key = (tag, text, implicit)
        try:
            return self.resolved[cache_key]
        except KeyError:
            pass
        if tag is None:
            tag = self.constructor.resolve(self.scalar_node, text, implicit)
        if tag == MERGE_TAG:
            raise TableError("YAML merge keys (<<) are not supported; write the fields out", line=_line(event))
        if tag not in SCALAR_TAGS:
            raise TableError(f"unsupported YAML tag {_tag(tag)}", line=_line(event))
        node = self.scalar_node(tag, text, event.start_mark, event.end_mark, event.style)
        value = self.constructor.yaml_constructors[tag](self.constructor, node)
        if len(self.resolved) < 100_000:
            self.resolved[cache_key] = value
        return value

    def _alias(self, event):
        if event.anchor not in self.anchors:
            raise TableError(f"unknown alias *{_cut(event.anchor, 40)}", line=_line(event))
        value = self.anchors[event.anchor]
        if not isinstance(value, _Collection):
            return value
        if value.container is None:
            raise TableError(
                f"an alias (*{_cut(event.anchor, 40)}) inside the mapping or list it names (line {value.line})",
                line=_line(event),
            )
        self.values += value.size  # the alias itself was counted: a copy costs what it holds
        if self.values > MAX_VALUES:
            raise TableError(
                f"more than {MAX_VALUES:,} values in one file, counting what aliases copy (*{_cut(event.anchor, 40)} "
                f"holds {value.size:,}); write the values out",
                line=_line(event),
            )
        import copy

        return copy.deepcopy(value.container)

    def _finish_anchor(self, anchor: str, container, size: int) -> None:
        entry = self.anchors.get(anchor)
        if isinstance(entry, _Collection) and entry.container is None:
            entry.container, entry.size = container, size


def _line(event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _cut(text: str, limit: int = 200) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tag(tag: str) -> str:
    return _cut(tag.replace("tag:yaml.org,2002:", "!!"), 60)
