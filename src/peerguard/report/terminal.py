"""`peerguard report` in the terminal: the run status and the headline as tables that fit 100
columns, then the files that hold everything else (wide tables are named, not printed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from peerguard.console import console
from peerguard.report.document import Report
from peerguard.report.sections import caption, title
from peerguard.report.views import view

PRINTED = ("run_status", "headline")


def _table(heading: str, shown: pd.DataFrame) -> Table:
    # one space between columns: seven columns of names and counts fit 100
    table = Table(title=heading, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False)
    for column in shown.columns:
        table.add_column(str(column), overflow="fold")
    for row in shown.itertuples(index=False):
        table.add_row(*(Text(str(value)) for value in row))
    return table


def rich_table(heading: str, shown: pd.DataFrame, to: Console) -> Table:
    """The table as rich draws it on `to`; model names break after their provider when the table would not fit unwrapped."""
    table = _table(heading, shown)
    if "model" in shown and Measurement.get(to, to.options.update_width(10_000), table).maximum > to.width:
        table = _table(heading, shown.assign(model=shown["model"].str.replace("/", "/\n", n=1, regex=False)))
    return table


def print_report(report: Report, written: dict[str, Path], out: Path, to: Console | None = None) -> None:
    """The printed tables, then every written table and figure by file, then the notes.

    Args:
        report: The built report.
        written: `document.write`'s files.
        out: The report directory.
        to: Where to print (default: `console()`).
    """
    to = to or console()
    for name in PRINTED:
        if not report.tables[name].empty:
            to.print(rich_table(title(name), view(name, report.tables[name]), to))
            to.print(Text(caption(name), style="dim"))
            to.print()
    to.print(Text(f"Tables written to {out / 'tables'} (full tables, every column):"))
    for name in report.sections():
        if name not in PRINTED:
            to.print(Text(f"  {name}.csv  {title(name)}"))
    figures = [figure for found in report.figures.values() for figure in found]
    if figures:
        to.print(Text(f"Figures in {out / 'figures'}:"))
        for figure in figures:
            to.print(Text(f"  {figure.path.name}  {figure.title}"))
    for name, answer in report.answers.items():
        to.print(Text(f"{title(name).split('?')[0]}? {answer}"))
    for note in report.notes:
        to.print(Text(f"note: {note}"))
    to.print(Text(f"report: {written['html']}  (also {written['markdown'].name}, samples.csv, samples.parquet, tables/, figures/ in {out})"))
