"""Hostile names and checks that Markdown shown by a page carries them as text, never as live syntax."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

LINK = "[Session expired](https://evil.example/login)"
IMAGE = "![x](http://127.0.0.1:9/p.png)"
# One name with every kind of markup outside text could smuggle in.
HOSTILE = f"{LINK} {IMAGE} *b* _i_ `c` <b>B</b> $x$ :red[r] :material/home:"
LIVE = ("](", "![", "*b*", "_i_", "`c`", "<b>", "$x$", ":red[", ":material/")
ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")  # CommonMark: a backslash before ASCII punctuation makes it literal


def live_markup(markdown: str) -> list[str]:
    """The pieces of HOSTILE's syntax that would still render as Markdown (escaped characters removed first),
    and "$…$" where two dollar signs would make the text between them KaTeX math (say, two amounts)."""
    bare = ESCAPED.sub("", markdown)
    return [piece for piece in LIVE if piece in bare] + (["$…$"] if bare.count("$") > 1 else [])


def markdown_texts(at: AppTest) -> list[str]:
    """Every Markdown string the run drew: bodies of text and alerts, widget, metric and expander labels, metric values."""
    texts = [e.value for kind in ("markdown", "caption", "warning", "error", "info", "success") for e in getattr(at, kind)]
    texts += [w.label for kind in ("toggle", "checkbox", "selectbox", "multiselect", "radio", "metric") for w in getattr(at, kind)]
    texts += [e.label for e in at.expander] + [m.value for m in at.metric]  # metric values are Markdown too
    return texts
