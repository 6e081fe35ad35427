"""Text from runs (operation names, paths) written into markdown that someone may render.

A name comes from a team's scenario or locustfile, so it may hold anything: `|` that splits a
table cell, backticks, or HTML such as `<img src=x onerror=alert(1)>` that runs when the
markdown is rendered with HTML allowed (many CI job summaries and wikis allow it). A code span
is literal in every CommonMark renderer: no emphasis, no link, and no raw HTML is recognised
inside it, so the name shows exactly as written. Prose that quotes such names (a check's
message, a verdict's reason) is written with every markup character backslash-escaped
instead, so it still reads as prose.
"""

from __future__ import annotations

import re


def code_span(text: str, *, in_table: bool = False) -> str:
    """`text` as a markdown code span that renders literally.

    The fence is one backtick longer than the longest run of backticks inside the text, and
    padded with a space where the text begins or ends with a backtick. Line breaks become
    spaces (a code span cannot hold one in a table row or a heading). In a table cell a pipe
    is written `\\|`: GFM splits cells on it before it reads the code span, and puts the pipe
    back inside the span.
    """
    flat = re.sub(r"[\r\n]+", " ", text)
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


_ACTIVE = re.compile(r"([\\`*_\[\]<>&|~])")
"""Characters that can start markup in a line of prose: code, emphasis, links, raw HTML,
entities, table cells, strikethrough."""


def literal_text(text: str) -> str:
    """Prose that may quote names from the run (an operation, a stage, a path) written so it
    renders literally: each markup character backslash-escaped (CommonMark renders an escaped
    ASCII punctuation character as itself, and never reads HTML or a link through it), on one
    line."""
    return _ACTIVE.sub(r"\\\1", " ".join(text.split()))
