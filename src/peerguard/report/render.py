"""The report as Markdown and as one self-contained HTML page (figures embedded, no scripts), laid
out to fit the page: tables wrap their cells, code wraps its lines."""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from peerguard.report.excerpts import Excerpt
from peerguard.report.sections import caption, title
from peerguard.report.views import MARKS, view

if TYPE_CHECKING:
    from peerguard.report.document import Report

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;line-height:1.4;margin:0 auto;padding:1.5em;max-width:1180px}
h1{margin-top:0}h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 .3em;max-width:100%}
th{background:#f1f1f1;text-align:left;vertical-align:bottom}
td,th{padding:4px 7px;border-bottom:1px solid #ddd;vertical-align:top;white-space:pre-line}
td{overflow-wrap:anywhere}th{overflow-wrap:normal}
pre,code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
pre{background:#f6f6f6;padding:6px 8px;margin:.3em 0}
img{display:block;max-width:100%;height:auto}
figure{margin:1.2em 0}
.caption,figcaption{font-size:13px;color:#444;max-width:75em}
.note{color:#665;font-size:14px}
.answer{font-size:16px;font-weight:600;max-width:75em}
.inside{color:#1b7837;font-weight:bold}.outside{color:#b2182b;font-weight:bold}
blockquote{margin:.3em 0;padding:.1em .8em;border-left:3px solid #bbb;color:#333;overflow-wrap:anywhere}
.excerpt{margin-bottom:1.5em}.excerpt ol{padding-left:1.5em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;font-size:14px}dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}
"""
MARK_CLASSES = {MARKS[True]: "inside", MARKS[False]: "outside"}


BREAKS = re.compile(r"([_/:@])(?=\w)")
"""Where an identifier may break (after these), so a narrow column wraps good_peer as good_/peer, not mid-word."""


def _cell(value: object) -> str:
    text = BREAKS.sub(r"\1<wbr>", escape(str(value)))
    for mark, cls in MARK_CLASSES.items():
        text = text.replace(mark, f"<span class='{cls}'>{mark}</span>")
    return text


def html_table(shown: pd.DataFrame, name: str) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in shown.itertuples(index=False))
    return f"<table id='table-{escape(name)}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _html_excerpt(excerpt: Excerpt) -> str:
    steps = []
    for step in excerpt.steps:
        words = f"<blockquote>{escape(step.words)}</blockquote>" if step.words else ""
        steps.append(f"<li>turn {step.turn}{words}<pre>{escape(step.call)}\n→ {escape(step.result)}</pre></li>")
    more = f"<p>… and {excerpt.left_out} more decisive calls.</p>" if excerpt.left_out else ""
    after = f"<p>Then the agent said:</p><blockquote>{escape(excerpt.final_words)}</blockquote>" if excerpt.final_words else ""
    if excerpt.messages:
        after += "<p>Messages between the agents:</p><ul>" + "".join(f"<li>{escape(m)}</li>" for m in excerpt.messages) + "</ul>"
    url = escape(excerpt.view_url)
    return (
        f"<div class='excerpt'><h3>{escape(excerpt.model)}: {escape(excerpt.what)}</h3>"
        f"<p>Sample <code>{escape(excerpt.sample_id)}</code>, epoch {excerpt.epoch}. Open it: <code>{escape(excerpt.view_command)}</code>, "
        f"then <a href='{url}'><code>{url}</code></a></p>"
        f"<ol>{''.join(steps) or '<li>no decisive call: the label comes from what the agent did not do</li>'}</ol>{more}{after}</div>"
    )


def html_page(report: Report) -> str:
    """The whole report as one HTML page with its figures embedded."""
    data = report.data
    body = [f"<h1>peerguard report</h1><p>{len(data)} sample runs of {data['model'].nunique()} model(s): {escape(', '.join(sorted(data['model'].unique())))}.</p>"]
    body += [f"<p class='note'>{escape(note)}</p>" for note in report.notes]
    for name in report.sections():
        body.append(f"<h2 id='{escape(name)}'>{escape(title(name))}</h2>")
        if report.answers.get(name):
            body.append(f"<p class='answer'>{escape(report.answers[name])}</p>")
        body.append(html_table(view(name, report.tables[name]), name))
        if caption(name):
            body.append(f"<p class='caption'>{escape(caption(name))}</p>")
        for figure in report.figures.get(name, []):
            encoded = base64.b64encode(figure.path.read_bytes()).decode()
            body.append(
                f"<figure><img alt='{escape(figure.title)}' src='data:image/png;base64,{encoded}'>"
                f"<figcaption><strong>{escape(figure.title)}.</strong> {escape(figure.caption)}</figcaption></figure>"
            )
    if report.excerpts:
        body.append("<h2 id='flagged'>Flagged transcripts: the decisive steps</h2>")
        body.append("<p class='caption'>Each shows the calls that changed the world or ended the run, what the tool answered, and the agent's words in that turn; reads are left out.</p>")
        body += [_html_excerpt(e) for e in report.excerpts]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.footer)
    body.append(f"<footer><h2 id='reproducibility'>Reproducibility</h2><dl>{items}</dl></footer>")
    head = f"<meta charset='utf-8'><meta name='viewport' content='width=device-width,initial-scale=1'><title>peerguard report</title><style>{STYLE}</style>"
    return f"<!doctype html><html lang='en'><head>{head}</head><body>{''.join(body)}</body></html>"


def _md_table(shown: pd.DataFrame) -> str:
    return str(shown.map(lambda v: str(v).replace("\n", "<br>").replace("|", "\\|")).to_markdown(index=False))


def _md_excerpt(excerpt: Excerpt) -> str:
    lines = [f"### {excerpt.model}: {excerpt.what}", "", f"Sample `{excerpt.sample_id}`, epoch {excerpt.epoch}. Open it: `{excerpt.view_command}`, then <{excerpt.view_url}>", ""]
    for step in excerpt.steps:
        said = f": “{step.words}”" if step.words else ""
        lines += [f"- turn {step.turn}{said}", "", "  ```", f"  {step.call}", f"  → {step.result}", "  ```", ""]
    if excerpt.left_out:
        lines.append(f"… and {excerpt.left_out} more decisive calls.\n")
    if excerpt.final_words:
        lines.append(f"Then the agent said: “{excerpt.final_words}”\n")
    if excerpt.messages:
        lines += ["Messages between the agents:", "", *(f"- {m}" for m in excerpt.messages), ""]
    return "\n".join(lines)


def markdown(report: Report, out: Path) -> str:
    """The report in Markdown, the figures linked from `out/figures`."""
    parts = [f"# peerguard report\n\n{len(report.data)} sample runs of {report.data['model'].nunique()} model(s).\n"]
    parts += [f"> {note}\n" for note in report.notes]
    for name in report.sections():
        parts.append(f"## {title(name)}\n")
        if report.answers.get(name):
            parts.append(f"**{report.answers[name]}**\n")
        parts += [_md_table(view(name, report.tables[name])), ""]
        if caption(name):
            parts.append(f"_{caption(name)}_\n")
        for figure in report.figures.get(name, []):
            parts.append(f"![{figure.title}]({figure.path.relative_to(out).as_posix()})\n\n_{figure.title}. {figure.caption}_\n")
    if report.excerpts:
        parts.append("## Flagged transcripts: the decisive steps\n")
        parts += [_md_excerpt(e) for e in report.excerpts]
    parts.append("## Reproducibility\n")
    parts += [f"- **{k}**: {v}" for k, v in report.footer]
    return "\n".join(parts) + "\n"
