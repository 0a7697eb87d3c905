"""Every command in README.md is real: ``s2rdepth`` lines parse with the actual command line (and
``train`` lines load their configuration with the given overrides), ``make`` targets exist,
``python -m`` modules import, and the README's demo table is the one a demo run printed."""
from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from s2rdepth.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _commands(text: str) -> list[str]:
    """Lines of the ```bash blocks, continuation lines joined, comments dropped."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


COMMANDS = _commands(README.read_text(encoding="utf-8"))


def _s2rdepth_argv(cmd: str) -> list[str] | None:
    """The arguments after ``s2rdepth`` (also under ``python -m`` / ``torchrun -m``), else None."""
    words = shlex.split(cmd)
    for i, w in enumerate(words):
        if w == "s2rdepth" and (i == 0 or words[i - 1] == "-m"):
            return words[i + 1:]
    return None


def test_readme_has_commands():
    assert "make demo" in COMMANDS and "make test" in COMMANDS
    assert sum(_s2rdepth_argv(c) is not None for c in COMMANDS) >= 15


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if _s2rdepth_argv(c) is not None])
def test_s2rdepth_command_parses(cmd, tmp_path, monkeypatch):
    argv = _s2rdepth_argv(cmd)
    args = build_parser().parse_args(argv)
    assert getattr(args, "func", None) is not None, cmd
    if args.command == "train" and Path(args.config).name != "config.yaml":
        # (a run's own config.yaml exists only after that run: test_demo and test_train_resume
        # repeat and resume runs from it)
        from s2rdepth.train import load_config

        monkeypatch.chdir(tmp_path)  # relative configs/... must resolve to the shipped files
        cfg = load_config(args.config, list(args.overrides) + ([f"out={args.out}"] if args.out else []))
        assert cfg.method.name


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c.startswith("make ")])
def test_make_targets_exist(cmd):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = shlex.split(cmd)[1]
    assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.M), cmd


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if re.match(r"python -m (?!s2rdepth\b)", c)])
def test_python_modules_exist(cmd):
    module = shlex.split(cmd)[2]
    import sys

    sys.path.insert(0, str(ROOT))
    try:
        assert importlib.util.find_spec(module) is not None, cmd
    finally:
        sys.path.remove(str(ROOT))


def test_readme_demo_table_is_a_demo_result():
    """The table under "What the demo prints" is the markdown a demo run wrote (results.md)."""
    text = README.read_text(encoding="utf-8")
    doc = ROOT / "docs" / "demo_results.md"
    assert doc.is_file(), "docs/demo_results.md (the committed results.md of the README's demo run) is missing"
    table = [ln for ln in doc.read_text(encoding="utf-8").splitlines() if ln.startswith("|")]
    assert table and all(ln in text for ln in table)
