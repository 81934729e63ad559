"""The README's Python example runs as written and returns rows on the demo warehouse."""

import re
from pathlib import Path

from apptest_support import ROOT


def readme_python() -> str:
    blocks = re.findall(r"```python\n(.*?)```", Path(ROOT / "README.md").read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_readme_python_example_returns_rows_on_the_demo(monkeypatch, demo_url, capsys):
    monkeypatch.setenv("SPM_WAREHOUSE_URL", demo_url)  # what make_engine() opens by default
    namespace: dict = {}
    exec(compile(readme_python(), "README.md", "exec"), namespace)  # noqa: S102
    table = namespace["table"]
    assert len(table) >= 1 and table["bookings"].sum() > 0 and table["quota"].sum() > 0
    assert "team" in capsys.readouterr().out
    namespace["engine"].dispose()
