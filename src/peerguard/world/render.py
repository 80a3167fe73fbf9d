"""How the world shows itself to the model: YAML, like the study's harness."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import yaml

from peerguard.world.state import Sheet

RENDERED_LIMIT = 256
_rendered: OrderedDict[str, str] = OrderedDict()
"""Recent renders by the `repr` of their value: PyYAML's emitter is pure Python and slow, and a
listing is often read again unchanged (later in the episode, or in another sample)."""


def as_yaml(value: Any) -> str:
    if value == []:
        return "[]"
    if _shares_containers(value):  # PyYAML writes anchors for a shared list or dict, which `repr` does not show
        return _dump(value)
    key = repr(value)
    text = _rendered.get(key)
    if text is None:
        text = _rendered[key] = _dump(value)
        if len(_rendered) > RENDERED_LIMIT:
            _rendered.popitem(last=False)
    else:
        _rendered.move_to_end(key)
    return text


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).rstrip()


def _shares_containers(value: Any) -> bool:
    """Whether one list or dict object occurs twice in the value."""
    seen: set[int] = set()
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, list | dict):
            if id(current) in seen:
                return True
            seen.add(id(current))
            pending.extend(current.values() if isinstance(current, dict) else current)
    return False


def as_table(sheet: Sheet) -> str:
    """A fixed-width table with a row index, the way a spreadsheet export prints."""
    header = ["", *sheet.columns]
    body = [[str(i), *(str(cell) for cell in row)] for i, row in enumerate(sheet.rows)]
    widths = [max(len(line[col]) for line in [header, *body]) for col in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *body])
