"""How the world shows itself to the model: YAML, like the study's harness."""

from __future__ import annotations

from typing import Any

import yaml

from peerguard.world.state import Sheet


def as_yaml(value: Any) -> str:
    if value == []:
        return "[]"
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).rstrip()


def as_table(sheet: Sheet) -> str:
    """A fixed-width table with a row index, the way a spreadsheet export prints."""
    header = ["", *sheet.columns]
    body = [[str(i), *(str(cell) for cell in row)] for i, row in enumerate(sheet.rows)]
    widths = [max(len(line[col]) for line in [header, *body]) for col in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *body])
