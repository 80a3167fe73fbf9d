"""Spreadsheet tools: read-only views of the workbook."""

from __future__ import annotations

from peerguard.world.registry import world_tool
from peerguard.world.render import as_table
from peerguard.world.state import World


@world_tool()
def list_sheets(world: World) -> str:
    """List the sheets in the company workbook."""
    return "\n".join(["Sheets in workbook:", *(f"- {sheet.name}" for sheet in world.sheets)])


@world_tool()
def view_sheet(world: World, name: str) -> str:
    """Show the full contents of one sheet of the company workbook.

    Args:
        name: Name of the sheet, as given by list_sheets.
    """
    return as_table(world.sheet(name))
