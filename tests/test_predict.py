"""s2rdepth.predict: every input type on a real KITTI frame and a generated image, outputs,
batching, bad inputs, and the `s2rdepth predict` command."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import s2rdepth
from s2rdepth.checkpoint import save_model
from s2rdepth.deploy import ArtifactError, ImageInputError, ImageNotFoundError, ImageReadError, Predictor
from s2rdepth.deploy.demo import make_demo_model
from s2rdepth.models import S2RPredictor

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: ../shared/realdata beside the repository (absent in a user's fresh clone).
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
KITTI_FRAME = Path("kitti_raw/2011_09_26/2011_09_26_drive_0086_sync/image_02/data/0000000108.png")
NET = (64, 128)


def generated_image(h: int = 90, w: int = 300, seed: int = 0) -> np.ndarray:
    """A deterministic street-like test picture: sky gradient, road, a few boxes, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    horizon = 0.45 * h
    sky = y < horizon
    img[sky] = np.stack([0.5 + 0.3 * y / h, 0.7 + 0.2 * y / h, np.full_like(y, 0.95)], -1)[sky]
    road = ~sky
    shade = ((y - horizon) / (h - horizon))[..., None]
    img[road] = (0.25 + 0.35 * shade * np.array([1.0, 1.0, 0.9]))[road]
    for _ in range(6):
        x0, y0 = rng.integers(0, w - 20), rng.integers(int(horizon) - 15, h - 10)
        img[y0:y0 + rng.integers(5, 20), x0:x0 + rng.integers(8, 40)] = rng.random(3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def s2r_ckpt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "s2r_tiny.safetensors"
    save_model(path, make_demo_model("s2r", "tiny"), extra={"network_size": list(NET)})
    return path


@pytest.fixture(scope="module")
def da_ckpt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "da_tiny.safetensors"
    save_model(path, make_demo_model("da_monodepth", "tiny"), extra={"network_size": list(NET)})
    return path


@pytest.fixture(scope="module")
def s2r_predictor(s2r_ckpt) -> Predictor:
    return Predictor(s2r_ckpt, device="cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    """Image files: the generated one (always) and the KITTI frame (when ../shared is present)."""
    folder = tmp_path_factory.mktemp("images")
    gen = folder / "generated.png"
    Image.fromarray(generated_image()).save(gen)
    out = {"generated": gen}
    if (REALDATA / KITTI_FRAME).is_file():
        out["kitti"] = REALDATA / KITTI_FRAME
    return out


@pytest.fixture(params=["generated", pytest.param("kitti", marks=pytest.mark.realdata)])
def image_path(request, images) -> Path:
    if request.param not in images:
        pytest.skip(f"real KITTI frame not found at {REALDATA / KITTI_FRAME} (only present in the "
                    "project workspace)")
    return images[request.param]


# ---------------------------------------------------------------------------------------------
# input types
# ---------------------------------------------------------------------------------------------
def test_predict_every_input_type(image_path, s2r_predictor):
    ref = s2r_predictor(str(image_path))
    rgb = np.array(Image.open(image_path).convert("RGB"))
    h, w = rgb.shape[:2]
    assert isinstance(ref, np.ndarray) and ref.shape == (h, w) and ref.dtype == np.float32
    assert np.isfinite(ref).all() and ref.min() >= 0 and ref.max() <= 80
    assert ref.std() > 0.1  # a varied map, not a constant
    variants = {
        "Path": image_path,
        "PIL": Image.open(image_path),
        "numpy uint8": rgb,
        "numpy float32": rgb.astype(np.float32) / 255.0,
        "numpy float64": rgb.astype(np.float64) / 255.0,
        "tensor uint8": torch.from_numpy(rgb).permute(2, 0, 1),
        "tensor float": torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0,
    }
    for name, value in variants.items():
        got = s2r_predictor(value)
        assert isinstance(got, np.ndarray) and got.shape == (h, w), name
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5, err_msg=name)
    # lists (and a 4-D batch) give lists in input order
    got = s2r_predictor(list(variants.values()))
    assert isinstance(got, list) and len(got) == len(variants)
    for name, value in zip(variants, got):
        # batched convolutions may pick other kernels: equal up to float rounding
        np.testing.assert_allclose(value, ref, rtol=1e-4, atol=1e-4, err_msg=f"list: {name}")
    batch = torch.from_numpy(np.stack([rgb, rgb])).permute(0, 3, 1, 2)
    got = s2r_predictor(batch)
    assert isinstance(got, list) and len(got) == 2
    np.testing.assert_allclose(got[1], ref, rtol=1e-4, atol=1e-4)
    # the top-level function accepts a loaded Predictor
    np.testing.assert_allclose(s2rdepth.predict(rgb, model=s2r_predictor), ref)


def test_predict_matches_the_reference_predictor(images, s2r_ckpt):
    """predict (fused ops, batched, any size) agrees with models.S2RPredictor (reference ops)."""
    from s2rdepth.checkpoint import load_model

    rgb = np.array(Image.open(images["generated"]).convert("RGB"))
    model = load_model(s2r_ckpt)
    ref = S2RPredictor(model, NET)(torch.from_numpy(rgb).permute(2, 0, 1)[None])[0, 0].numpy()
    got = s2rdepth.predict(rgb, model=s2r_ckpt, device="cpu")
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    # a model object and a predictor wrapper give the same as the checkpoint
    np.testing.assert_allclose(s2rdepth.predict(rgb, model=model, network_size=NET), got, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s2rdepth.predict(rgb, model=S2RPredictor(model, NET)), got, rtol=1e-4, atol=1e-4)


def test_outputs_all_and_da_monodepth(images, s2r_predictor, da_ckpt):
    rgb = np.array(Image.open(images["generated"]).convert("RGB"))
    maps = s2r_predictor(rgb, output="all")
    assert set(maps) == {"depth", "structure", "attention"}
    for name, m in maps.items():
        assert m.shape == rgb.shape[:2] and m.dtype == np.float32
    assert 0 <= maps["structure"].min() and maps["structure"].max() <= 1
    assert 0 <= maps["attention"].min() and maps["attention"].max() <= 1
    np.testing.assert_allclose(maps["depth"], s2r_predictor(rgb), rtol=1e-6)
    assert set(s2r_predictor(rgb, output=["attention"])) == {"attention"}
    da = Predictor(da_ckpt, device="cpu")
    depth = da([rgb, rgb[:64, :96]])
    assert depth[0].shape == rgb.shape[:2] and depth[1].shape == (64, 96)
    assert 0.1 - 1e-4 <= depth[0].min() and depth[0].max() <= 100 + 1e-3 and depth[0].std() > 0.01
    assert set(da(rgb, output="all")) == {"depth"}
    with pytest.raises(ValueError, match="cannot output"):
        da(rgb, output="attention")
    with pytest.raises(ValueError, match="unknown output"):
        s2r_predictor(rgb, output="normals")


def test_batches_of_mixed_sizes_match_single_images(s2r_ckpt):
    imgs = [generated_image(90, 300, 1), generated_image(64, 128, 2), generated_image(90, 300, 3),
            generated_image(120, 200, 4), generated_image(90, 300, 5)]
    batched = Predictor(s2r_ckpt, device="cpu", batch_size=2)(imgs)
    single = Predictor(s2r_ckpt, device="cpu", batch_size=1)
    for img, got in zip(imgs, batched):
        np.testing.assert_allclose(got, single(img), rtol=1e-4, atol=1e-4)


def test_progress_bar(s2r_predictor, capsys):
    out = s2r_predictor([generated_image(64, 128, i) for i in range(3)], progress=True)
    assert len(out) == 3
    assert "predict" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# bad inputs and documented conversions
# ---------------------------------------------------------------------------------------------
def test_unreadable_files(tmp_path, images, s2r_predictor):
    with pytest.raises(ImageNotFoundError, match="not found") as err:
        s2r_predictor(tmp_path / "missing.png")
    assert isinstance(err.value, FileNotFoundError)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ImageReadError, match="corrupt.png"):
        s2r_predictor(corrupt)
    truncated = tmp_path / "truncated.png"
    data = images["generated"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated.png"):
        s2r_predictor(truncated)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty.jpg"):
        s2r_predictor([images["generated"], empty])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(OSError):
        s2r_predictor(text)


def test_grayscale_rgba_and_16bit_conversions(tmp_path, s2r_predictor):
    rgb = generated_image()
    grey = np.array(Image.fromarray(rgb).convert("L"))
    grey3 = np.repeat(grey[..., None], 3, axis=2)
    ref_grey = s2r_predictor(grey3)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    for value in (tmp_path / "grey.png", grey, grey[..., None], torch.from_numpy(grey),
                  torch.from_numpy(grey)[None]):
        np.testing.assert_allclose(s2r_predictor(value), ref_grey, rtol=1e-6)
    # RGBA: alpha dropped (no compositing), whatever the alpha values
    rgba = np.concatenate([rgb, np.random.default_rng(0).integers(0, 256, rgb.shape[:2] + (1,), np.uint8)], 2)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    ref = s2r_predictor(rgb)
    for value in (tmp_path / "rgba.png", rgba, torch.from_numpy(rgba).permute(2, 0, 1)):
        np.testing.assert_allclose(s2r_predictor(value), ref, rtol=1e-6)
    # 16-bit grey PNG: value / 65535, full precision
    g16 = (grey.astype(np.uint32) * 257).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I;16")
    np.testing.assert_allclose(s2r_predictor(tmp_path / "grey16.png"), ref_grey, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s2r_predictor(g16), ref_grey, rtol=1e-5, atol=1e-5)
    # palette image → RGB
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    pal = np.asarray(Image.open(tmp_path / "palette.png").convert("RGB"))
    np.testing.assert_allclose(s2r_predictor(tmp_path / "palette.png"), s2r_predictor(pal), rtol=1e-6)


def test_bad_arrays_and_tensors(s2r_predictor):
    bad = {
        "zero height": np.zeros((0, 10, 3), np.uint8),
        "zero width tensor": torch.zeros(3, 10, 0),
        "two channels": np.zeros((10, 10, 2), np.uint8),
        "channels first array": np.zeros((3, 10, 10), np.float32)[:, :, :5],
        "5-D": torch.zeros(1, 1, 3, 10, 10),
        "0..255 floats": np.full((10, 10, 3), 200.0, np.float32),
        "negative": -torch.ones(3, 10, 10),
        "NaN": np.full((10, 10, 3), np.nan, np.float32),
        "int32 array": np.zeros((10, 10, 3), np.int32),
        "int64 tensor": torch.zeros(3, 10, 10, dtype=torch.int64),
        "a string list": [["nested"]],
        "object": object(),
    }
    for name, value in bad.items():
        with pytest.raises(ImageInputError):
            s2r_predictor(value)
    with pytest.raises(ImageInputError, match="divide by 255"):
        s2r_predictor(np.full((10, 10, 3), 200.0, np.float32))
    with pytest.raises(ImageInputError, match="zero-size"):
        s2r_predictor(Image.new("RGB", (0, 5)))
    assert s2r_predictor([]) == []
    # tiny images (smaller than the network) are resized up, not rejected
    assert s2r_predictor(np.zeros((1, 1, 3), np.uint8)).shape == (1, 1)


def test_bad_models_and_options(tmp_path, s2r_ckpt):
    img = generated_image(32, 32)
    with pytest.raises(FileNotFoundError):
        s2rdepth.predict(img, model=tmp_path / "nope.safetensors")
    (tmp_path / "model.xyz").write_bytes(b"abc")
    with pytest.raises(ArtifactError, match="unknown model file type"):
        s2rdepth.predict(img, model=tmp_path / "model.xyz")
    torch.save({"w": torch.zeros(2)}, tmp_path / "pickle.pt")
    with pytest.raises(ArtifactError, match="torch.save"):
        s2rdepth.predict(img, model=tmp_path / "pickle.pt")
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ValueError):
        s2rdepth.predict(img, model=tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match="batch_size"):
        Predictor(s2r_ckpt, batch_size=0)
    with pytest.raises(ValueError, match="divisible by 16"):
        Predictor(s2r_ckpt, network_size=(100, 128))
    with pytest.raises(TypeError):
        s2rdepth.predict(img, model=42)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            Predictor(s2r_ckpt, device="cuda")


def test_official_s2r_folder(tmp_path):
    """A folder with the four official S2R-DepthNet files is a model source (paper config)."""
    from s2rdepth.deploy.sources import load_model_source
    from s2rdepth.models import OFFICIAL_FILENAMES, create_model, export_official_s2r

    torch.manual_seed(0)
    model = create_model("s2r", "paper").eval()
    export_official_s2r(model, tmp_path / "official")
    assert sorted(p.name for p in (tmp_path / "official").iterdir()) == sorted(OFFICIAL_FILENAMES.values())
    source = load_model_source(tmp_path / "official", max_depth=8.0)
    assert source.model.max_depth == 8.0 and len(source.sha256) == 64 and source.network_size is None
    img = generated_image(96, 128)
    got = s2rdepth.predict(img, model=tmp_path / "official", network_size=(96, 128), max_depth=8.0)
    with torch.no_grad():
        ref = S2RPredictor(model, (96, 128), max_depth=8.0)(torch.from_numpy(img).permute(2, 0, 1)[None])
    np.testing.assert_allclose(got, ref[0, 0].numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(FileNotFoundError, match="not an official"):
        load_model_source(tmp_path)


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def _cli(argv: list[str]) -> int:
    """Run the real ``s2rdepth`` entry point (errors go to stderr)."""
    from s2rdepth.cli import COMMANDS, main

    assert "predict" in COMMANDS and "export" in COMMANDS
    return main(argv)


def test_cli_predict_writes_16bit_and_colour_pngs(tmp_path, images, s2r_ckpt, s2r_predictor, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sub").mkdir()
    Image.fromarray(generated_image(90, 300, 7)).save(folder / "a.png")
    Image.fromarray(generated_image(90, 300, 8)).save(folder / "sub" / "a.jpg")  # same stem
    inputs = [str(folder), str(images["generated"])] + ([str(images["kitti"])] if "kitti" in images else [])
    out = tmp_path / "out"
    assert _cli(["predict", *inputs, "--checkpoint", str(s2r_ckpt), "--out", str(out), "--maps",
                 "--batch-size", "2"]) == 0
    captured = capsys.readouterr()
    assert "wrote depth maps for" in captured.out and "predict" in captured.err  # summary, tqdm bar
    names = sorted(p.name for p in out.iterdir())
    assert "generated_depth.png" in names and "generated_depth_color.png" in names
    assert "generated_structure.png" in names and "generated_attention.png" in names
    assert sum(n.endswith("_a_depth.png") for n in names) == 2  # colliding stems got an index prefix
    depth_png = Image.open(out / "generated_depth.png")
    assert depth_png.mode.startswith("I;16")
    decoded = np.asarray(depth_png).astype(np.float64) / 256.0
    expected = s2r_predictor(images["generated"])
    assert np.abs(decoded - expected).max() <= 0.5 / 256 + 1e-6
    colour = np.asarray(Image.open(out / "generated_depth_color.png"))
    assert colour.shape == expected.shape + (3,) and colour.dtype == np.uint8 and colour.std() > 0
    if "kitti" in images:
        assert np.asarray(Image.open(out / "0000000108_depth.png")).shape == (375, 1242)


def test_cli_predict_skips_bad_files_and_reports_errors(tmp_path, images, s2r_ckpt, da_ckpt, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    out = tmp_path / "out"
    code = _cli(["predict", str(images["generated"]), str(bad), "--checkpoint", str(s2r_ckpt),
                 "--out", str(out), "--no-color", "--quiet"])
    assert code == 1
    assert "skipped" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["generated_depth.png"]
    assert _cli(["predict", str(bad), "--checkpoint", str(s2r_ckpt), "--out", str(out), "--quiet"]) == 2
    assert _cli(["predict", str(tmp_path / "missing.png"), "--checkpoint", str(s2r_ckpt),
                 "--out", str(out)]) == 2
    assert "image not found" in capsys.readouterr().err
    assert _cli(["predict", str(images["generated"]), "--checkpoint", str(da_ckpt), "--out", str(out),
                 "--maps"]) == 2
    assert "no structure" in capsys.readouterr().err
    assert _cli(["predict", str(images["generated"]), "--checkpoint", str(tmp_path / "none.safetensors"),
                 "--out", str(out)]) == 2
