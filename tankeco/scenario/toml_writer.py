"""TOML text from validated tables: what ``Scenario.to_toml`` and ``LayoutFile.to_toml`` write.

Every value is written, defaults too, so a file documents the whole run; ``None`` is left
out (absent in TOML means "the model chooses").  The text reads back equal.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")  # schema has no others


def write_table(lines: list[str], header: str, table: BaseModel, array: bool) -> None:
    """Scalars under ``[header]`` (``[[header]]``), then sub-tables, then arrays of tables."""
    lines.append("")
    lines.append(f"[[{header}]]" if array else f"[{header}]")
    subtables: list[tuple[str, BaseModel]] = []
    arrays: list[tuple[str, list[BaseModel]]] = []
    for name in type(table).model_fields:
        value = getattr(table, name)
        if value is None:
            continue  # absent in TOML means "model chooses"
        if isinstance(value, BaseModel):
            subtables.append((name, value))
        elif isinstance(value, list):
            arrays.append((name, value))
        else:
            lines.append(f"{_toml_key(name)} = {toml_value(value)}")
    for name, sub in subtables:
        write_table(lines, f"{header}.{name}", sub, array=False)
    for name, items in arrays:
        for item in items:
            write_table(lines, f"{header}.{name}", item, array=True)


def document(model: BaseModel, comment: str) -> str:
    """``model`` as a TOML document under a first ``# comment`` line."""
    lines = [comment]
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            write_table(lines, name, value, array=False)
        elif isinstance(value, list):
            for item in value:
                write_table(lines, name, item, array=True)
        elif isinstance(value, dict) and value:
            lines.append("")
            lines.append(f"[{name}]")
            lines.extend(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"
