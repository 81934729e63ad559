"""`python -m spm_core users ACTION ... --url/--file`: the options are taken after the action too (issue 9)."""

from __future__ import annotations

from spm_core.cli import main


def test_url_and_file_after_the_action(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["users", "add", "boss", "--role", "admin", "--password", "long enough pass", "--url", url]) == 0
    assert (tmp_path / "users.yaml").exists()  # beside the warehouse --url names
    capsys.readouterr()
    assert main(["users", "list", "--url", url]) == 0
    assert capsys.readouterr().out.startswith("boss")
    other = str(tmp_path / "other.yaml")
    assert main(["users", "--url", url, "list", "--file", other]) == 0  # after the action wins
    assert capsys.readouterr().out == ""
