"""The README's Python examples run as written."""

from __future__ import annotations

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_a_readme_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples save files in the working directory
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})  # noqa: S102


def test_the_engine_docstring_example_holds():
    from ltrr_fast import Engine

    engine = Engine.build(
        [
            {"id": "s1", "fields": {"title": "Love Story", "artist": "Taylor Swift"}},
            {"id": "s2", "fields": {"title": "Lose Yourself", "artist": "Eminem"}},
        ],
        text_fields=("title", "artist"),
    )
    result = engine.search("love story")
    assert result.ids[0] == "s1"
    engine.feedback(result.request_id, [("s1", "play")])
    engine.close()
