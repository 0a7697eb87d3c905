"""The C++ example (deploy/cpp): builds against the installed torch wheel's libtorch with CMake,
loads a TorchScript artifact, and prints the same depth statistics as s2rdepth.predict."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

import s2rdepth
from s2rdepth.checkpoint import save_model
from s2rdepth.deploy import Predictor
from s2rdepth.deploy.demo import make_demo_model

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "deploy" / "cpp"

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _compiler() -> str | None:
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def write_ppm(path: Path, rgb: np.ndarray) -> None:
    """Binary PPM (P6), 8-bit."""
    h, w, _ = rgb.shape
    path.write_bytes(f"P6\n# s2rdepth test\n{w} {h}\n255\n".encode() + np.ascontiguousarray(rgb, np.uint8).tobytes())


def write_pgm16(path: Path, grey: np.ndarray) -> None:
    """Binary PGM (P5), 16-bit big-endian samples."""
    h, w = grey.shape
    path.write_bytes(f"P5\n{w} {h}\n65535\n".encode() + np.ascontiguousarray(grey, ">u2").tobytes())


def _build_dir(cxx: str) -> Path:
    """A build folder reused across test runs (CMake rebuilds what changed; compiling against the
    libtorch headers takes most of the time): build/deploy-cpp-<torch>-<compiler hash> in the
    repository (git-ignored), or a temporary folder when that is not writable."""
    key = hashlib.sha256(f"{torch.__version__}|{cxx}|{torch.utils.cmake_prefix_path}".encode()).hexdigest()[:10]
    folder = ROOT / "build" / f"deploy-cpp-{key}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix="s2rdepth-cpp-"))


@pytest.fixture(scope="module")
def binary() -> Path:
    cmake = shutil.which("cmake")
    cxx = _compiler()
    if cmake is None or cxx is None:
        pytest.skip(f"the C++ example needs cmake and a C++ compiler (cmake: {cmake}, compiler: {cxx})")
    build = _build_dir(cxx)
    configure = [cmake, "-S", str(SOURCE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}", f"-DCMAKE_CXX_COMPILER={cxx}"]
    cache = build / "CMakeCache.txt"
    if shutil.which("ninja") and (not cache.is_file() or "CMAKE_GENERATOR:INTERNAL=Ninja" in cache.read_text()):
        configure += ["-G", "Ninja"]
    # configure once; `cmake --build` re-runs the configure step itself when CMakeLists.txt changes
    steps = [[cmake, "--build", str(build), "-j", "2"]]
    if not cache.is_file():
        steps.insert(0, configure)
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    exe = build / "s2rdepth_depth"
    assert exe.is_file()
    return exe


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cpp-artifact")
    ckpt = work / "s2r_tiny.safetensors"
    save_model(ckpt, make_demo_model("s2r", "tiny"), extra={"network_size": [64, 128]})
    return s2rdepth.export(ckpt, format="torchscript", out=work / "s2r_tiny.pt")


def _run(exe: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


def _stats(stdout: str) -> dict[str, float]:
    out = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key.startswith("depth_") or key == "finite":
            out[key] = float(value)
    return out


def _expected(depth: np.ndarray) -> dict[str, float]:
    d = depth.astype(np.float64).ravel()
    return {"depth_min_m": d.min(), "depth_max_m": d.max(), "depth_mean_m": d.mean(),
            "depth_median_m": np.quantile(d, 0.5), "depth_p05_m": np.quantile(d, 0.05),
            "depth_p95_m": np.quantile(d, 0.95)}


def test_cpp_example_matches_predict(binary, artifact, tmp_path):
    rng = np.random.default_rng(11)
    low = rng.random((6, 20, 3))
    rgb = (np.kron(low, np.ones((15, 15, 1))) * 255).round().astype(np.uint8)  # 90 x 300, blocky
    write_ppm(tmp_path / "image.ppm", rgb)  # not the network size: the program resizes in and out
    proc = _run(binary, artifact, tmp_path / "image.ppm", "--out", tmp_path / "depth.pgm", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    stats = _stats(proc.stdout)
    predictor = Predictor(artifact, device="cpu")
    depth = predictor(rgb)
    expected = _expected(depth)
    assert stats["finite"] == 1
    for key, value in expected.items():
        assert stats[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
    # the 16-bit PGM holds round(depth * 256), KITTI convention
    data = (tmp_path / "depth.pgm").read_bytes()
    header_end = data.index(b"65535\n") + len(b"65535\n")
    pgm = np.frombuffer(data[header_end:], ">u2").reshape(90, 300)
    ref = np.clip(np.round(depth * 256), 0, 65535)
    assert np.abs(pgm.astype(np.int64) - ref.astype(np.int64)).max() <= 1
    # a 16-bit grey PGM at the network size: grey replicated, samples / 65535
    grey = (np.linspace(0, 1, 64 * 128).reshape(64, 128) * 65535).astype(np.uint16)
    write_pgm16(tmp_path / "grey.pgm", grey)
    proc = _run(binary, artifact, tmp_path / "grey.pgm")
    assert proc.returncode == 0, proc.stderr
    ref_grey = predictor(grey)
    assert _stats(proc.stdout)["depth_mean_m"] == pytest.approx(ref_grey.mean(), rel=1e-4)


def test_cpp_example_bad_inputs(binary, artifact, tmp_path):
    write_ppm(tmp_path / "ok.ppm", np.zeros((64, 128, 3), np.uint8))
    cases = {
        "missing image": (artifact, tmp_path / "missing.ppm", "not found"),
        "not a netpbm": (artifact, artifact, "not a binary PGM"),
    }
    (tmp_path / "truncated.ppm").write_bytes(b"P6\n128 64\n255\n" + bytes(100))
    cases["truncated"] = (artifact, tmp_path / "truncated.ppm", "truncated")
    (tmp_path / "zero.ppm").write_bytes(b"P6\n0 64\n255\n")
    cases["zero size"] = (artifact, tmp_path / "zero.ppm", "out of range")
    (tmp_path / "bogus.pt").write_bytes(b"PK\x03\x04 definitely not a zip")
    cases["bad artifact"] = (tmp_path / "bogus.pt", tmp_path / "ok.ppm", "error")
    for name, (model, image, message) in cases.items():
        proc = _run(binary, model, image)
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert "error:" in proc.stderr and message in proc.stderr, (name, proc.stderr)
    assert _run(binary, artifact).returncode == 2  # usage
