"""The Python blocks of bindings/python/README.md run as written: in order, as one script, from
a directory laid out like the root of a clone (the blocks read ``examples/``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import readme_blocks  # noqa: E402


def test_every_python_block_of_the_readme_runs(tmp_path: Path) -> None:
    text = (ROOT / "bindings/python/README.md").read_text(encoding="utf-8")
    blocks = [body for skip, body in readme_blocks.blocks(text, "python") if not skip]
    assert len(blocks) >= 3, "the README lost its examples"
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, "-W", "error", str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("11 [] "), run.stdout   # the README's first printed line
    assert (tmp_path / "loyalty.pointbook").exists()
