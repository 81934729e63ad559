"""Outside text (URL parameters, imported names, file names, messages that echo them) made safe for Markdown.

Streamlit renders st.markdown, st.caption, alerts, widget and metric labels and tooltips as GitHub-flavoured
Markdown plus its own extensions: KaTeX ($x$), directives (:red[x]), Material icons (:material/home:). A rep
named `[Session expired](https://evil.example/login)` would be a live link there, and `![x](http://host/p.png)`
would make the browser fetch a URL. Every piece of outside text goes through md() before it joins Markdown.

Out of its reach, and only cosmetic (no link, no request elsewhere): Streamlit swaps `:streamlit:` (its logo),
`:material_home:` (an icon) and a spaced `->` (an arrow) in the already parsed text, escaped or not.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark renders any of them literally after a backslash, so no
# Markdown, GFM, math, directive, icon (":material/" is split by the escaped "/") or HTML syntax can start.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object) -> str:
    """`text` as Markdown that shows exactly its characters. Line breaks and runs of whitespace become one
    space (as HTML would show them anyway), so the text cannot start a heading, list or code block either.
    Also for plain text of our own that must read literally, e.g. two amounts ("$1K of $2K" would be math)."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))
