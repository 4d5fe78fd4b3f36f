"""Reading a config file's YAML without surprises: bounded, strict, and one line per refusal.

PyYAML's SafeLoader runs no code, but it keeps the last of two equal keys (a config silently loses a
section), recurses without bound (a deeply nested value ends in RecursionError), expands aliases
without bound (a "billion laughs" document of 1 KB stands for 10^9 values that validation then walks)
and lets a few malformed scalars escape as ValueError (`!!float abc`, `2024-13-45`). The loader below
refuses each of these with a line naming the file and, where it is known, the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reportgen.config.words import key_path, short_repr
from reportgen.errors import ConfigError

MAX_BYTES = 1 << 20  # 1 MiB: the demo config is 5 KB
MAX_DEPTH = 20  # levels of nesting below the document; a config needs 4
MAX_VALUES = 100_000  # values after expanding aliases; the demo config has about 170

_KEY = object()  # a path part for "the key of a mapping entry" (keys are not part of a key path)


class Refused(yaml.MarkedYAMLError):
    """A document that parses but is refused: a duplicate key, too deep, too many values."""

    def __init__(self, path: tuple[Any, ...], expected: str, got: str, mark: Any) -> None:
        super().__init__(problem=f"expected {expected}, got {got}", problem_mark=mark)
        self.path, self.expected, self.got = path, expected, got


class Loader(yaml.SafeLoader):
    """A SafeLoader that reads `1e-4` as a number and refuses duplicate keys, deep nesting and alias bombs."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded
        self._paths: dict[int, tuple[Any, ...]] = {}  # id(node) -> its key path, for construction errors

    def _key_path(self) -> tuple[Any, ...]:
        path = []
        for part in self._path:
            if part is _KEY:
                break
            path.append(part)
        return tuple(path)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if isinstance(parent, MappingNode):
            part = _KEY if index is None else (index.value if isinstance(index, ScalarNode) else "?")
        elif isinstance(parent, SequenceNode):
            part = index
        else:
            part = None
        if parent is not None:
            self._path.append(part)
        try:
            if len(self._path) > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise Refused(self._key_path(), f"at most {MAX_DEPTH} levels of nesting", "more", mark)
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                target = self.anchors.get(event.anchor)
                if target is not None and id(target) not in self._sizes:
                    # An alias inside its own anchor's value: a cycle no config needs.
                    raise Refused(
                        self._key_path(), "a value", f"a cycle (alias *{event.anchor})", event.start_mark
                    )
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:  # an alias's node is counted once more by its parent
                self._sizes[id(node)] = self._size(node)
                self._paths[id(node)] = self._key_path()
        finally:
            if parent is not None:
                self._path.pop()
        return node

    def _size(self, node: Node) -> int:
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._sizes[id(item)] for item in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
            self._refuse_duplicates(node)
        if size > MAX_VALUES:
            path = self._key_path()
            raise Refused(
                path, f"at most {MAX_VALUES} values after expanding aliases", str(size), node.start_mark
            )
        return size

    def _refuse_duplicates(self, node: MappingNode) -> None:
        # PyYAML keeps the last of two equal keys; a config silently losing a section is worse.
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == _MERGE:
                continue
            if (key.tag, key.value) in seen:
                path = (*self._key_path(), key.value)
                raise Refused(path, "a key given once", "it again", key.start_mark)
            seen.add((key.tag, key.value))

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        path = self._paths.get(id(node), ())
        # Equal keys written differently (`yes` and `true`, `1` and `0x1`) are only equal once read.
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                got = "a list or mapping as a key"
                raise Refused(path, "keys that are plain values", got, key_node.start_mark) from None
            if duplicate:
                name = key if isinstance(key, str) else short_repr(key, 40)
                raise Refused((*path, name), "a key given once", "it again", key_node.start_mark)
        try:
            return super().construct_mapping(node, deep=deep)
        except Refused:
            raise
        except ConstructorError as exc:  # a bad merge (`<<: 5`)
            got = "a " + str(exc.problem).rsplit("found ", 1)[-1]
            raise Refused(path, "a mapping (or a list of mappings) to merge", got, exc.problem_mark) from None

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except Refused:
            raise
        except ConstructorError:  # a tag SafeLoader does not read (`!!python/object:os.system`)
            got = f"the tag {_tag(node.tag)}"
            raise Refused(self._paths.get(id(node), ()), "a plain YAML value", got, node.start_mark) from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError):
            # `!!float abc`, `!!bool maybe`, a timestamp like 2024-13-45, a 5000-digit integer
            expected = _TAG_WORDS.get(node.tag, f"a valid {_tag(node.tag)} value")
            got = short_repr(node.value) if isinstance(node, ScalarNode) else "something else"
            raise Refused(self._paths.get(id(node), ()), expected, got, node.start_mark) from None


_MERGE = "tag:yaml.org,2002:merge"
_TAG_WORDS = {
    "tag:yaml.org,2002:int": "an integer (of at most 4300 digits)",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:timestamp": "a valid date (YYYY-MM-DD) or time",
    "tag:yaml.org,2002:binary": "base64 data",
}


def _tag(tag: str) -> str:
    """Return a tag as written: `!!float`, `!local`."""
    return short_repr(
        "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag, 60
    )


# YAML 1.1 (PyYAML) reads `1e-4` as a string because it has no dot; YAML 1.2 and every human read it
# as a number, and tolerances are written that way.
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def short_key_path(path: tuple[Any, ...], limit: int = 80) -> str:
    text = key_path(path)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def read_text(path: Path) -> str:
    """Return a config file's text; a missing, unreadable, oversized or non-UTF-8 file is one line."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {_one_line(exc.strerror or str(exc))}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{path}: expected a config file of at most {MAX_BYTES >> 20} MiB, got a larger one"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise ConfigError(f"{path}: cannot read: not UTF-8 text (byte 0x{byte:02x} on line {line})") from None


def read_yaml(path: Path, text: str) -> Any:
    """Return the data of a config file's YAML text; any refusal is one ConfigError line."""
    try:
        return yaml.load(text, Loader=Loader)  # Loader is a SafeLoader
    except Refused as exc:
        where = _where(exc.problem_mark)
        name = f"{short_key_path(exc.path)}: " if exc.path else ""
        raise ConfigError(f"{path}: {name}expected {exc.expected}, got {exc.got} ({where})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{_where(mark)}: " if mark is not None else ""
        raise ConfigError(f"{path}: {where}invalid YAML: {_one_line(exc.problem or exc.context)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {_one_line(str(exc).splitlines()[0])}") from None
    except RecursionError:  # not reached within MAX_DEPTH; kept so that no traceback can come out
        raise ConfigError(f"{path}: expected at most {MAX_DEPTH} levels of nesting, got more") from None
