"""The ``s2rdepth`` command line: entry point, --version, info."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import s2rdepth
from s2rdepth.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{s2rdepth.__version__}"' in text


def test_python_dash_m_version():
    out = subprocess.run([sys.executable, "-m", "s2rdepth", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"s2rdepth {s2rdepth.__version__}"


def test_info_json_reports_backend(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    import s2rdepth.ops as ops

    assert info["backend"] == ops.backend()
    assert info["torch"].startswith("2.")
    assert set(info) >= {"compiled_cuda_archs", "torch_cuda", "cuda_available", "compiled_extension"}


def test_info_text(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backend" in out and "torch" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_an_error():
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
