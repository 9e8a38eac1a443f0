"""The example in docs/entity_resolution.md runs exactly as written."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_documented_example_runs(capsys):
    text = (ROOT / "docs" / "entity_resolution.md").read_text(encoding="utf-8")
    example = re.search(r"## Example.*?```python\n(.*?)```", text, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(example, "docs/entity_resolution.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert "cluster_id" in capsys.readouterr().out
