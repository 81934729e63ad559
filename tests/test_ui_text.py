"""ui.text.md: outside text put into Markdown shows literally (every syntax escaped, nothing lost)."""

from __future__ import annotations

import re

import pytest
from markdown_support import ESCAPED, HOSTILE, IMAGE, LINK, live_markup

from ui.text import md

SAMPLES = [LINK, IMAGE, "*bold*", "_it_", "`code`", "<b>x</b>", "$x$", ":red[r]", ":material/home:", "a\\b", HOSTILE]


def rendered(markdown: str) -> str:
    """What CommonMark shows for text whose only syntax is backslash escapes."""
    return ESCAPED.sub(lambda m: m.group(0)[1], markdown)


@pytest.mark.parametrize("text", SAMPLES)
def test_escaped_text_renders_as_the_original_characters(text):
    assert rendered(md(text)) == text
    assert not live_markup(md(text))


@pytest.mark.parametrize("text", SAMPLES)
def test_every_ascii_punctuation_character_is_escaped(text):
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", md(text))
    assert not re.search(r"[!-/:-@\[-`{-~]", unescaped)


def test_known_forms():
    assert md(LINK) == r"\[Session expired\]\(https\:\/\/evil\.example\/login\)"
    assert md("$x$") == r"\$x\$"
    assert md("<b>") == r"\<b\>"


def test_streamlit_icons_and_emoji_shortcodes_are_not_recognised():
    # Streamlit rewrites ":material/" in the raw source before parsing, and loads emoji for ":name:" patterns.
    assert ":material/" not in md(":material/home:")
    assert not re.search(r":(?!material\/|streamlit:)[\w+-][\w_+-]*:", md(":smile:"))


@pytest.mark.parametrize("text", ["Ana\n# Heading", "Ana\n\n    code block", "  - item", "1. first\r\n2. second", "a\tb"])
def test_text_stays_one_inline_line(text):
    escaped = md(text)
    assert "\n" not in escaped and "\r" not in escaped and not escaped.startswith(" ")
    assert rendered(escaped) == " ".join(text.split())


def test_plain_names_and_numbers_are_unchanged():
    assert md("Jane Doe") == "Jane Doe"
    assert md(42) == "42"
