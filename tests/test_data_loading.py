"""Loading at scale: corrupt / missing files, skip-and-count, DataLoader workers, pickling."""
from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from s2rdepth.data import ImageFolderDataset, PairedFolderDataset, VKitti1Dataset
from s2rdepth.data.io import DataFileError, MissingFileError, read_png_uint16, read_rgb
from s2rdepth.data.transforms import S2RTransform
from test_data_readers import H, W, make_vkitti1, rgb_pattern, write_rgb, write_u16


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_truncated_png_names_file(tmp_path: Path) -> None:
    p = tmp_path / "img.png"
    write_rgb(p, rgb_pattern(0, 64, 64))
    truncate(p)
    with pytest.raises(DataFileError, match="img.png") as ei:
        read_rgb(p)
    assert ei.value.path == str(p)
    d = tmp_path / "d.png"
    write_u16(d, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    truncate(d, 0.6)
    with pytest.raises(DataFileError, match="d.png"):
        read_png_uint16(d)
    # the global Pillow switch that would decode a partial image is ignored
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(DataFileError, match="img.png"):
            read_rgb(p)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    with pytest.raises(MissingFileError, match="nothere.png"):
        read_rgb(tmp_path / "nothere.png")
    eight = tmp_path / "eight.png"
    write_rgb(eight, rgb_pattern(1))
    with pytest.raises(DataFileError, match="eight.png"):
        read_png_uint16(eight)  # a colour image where 16-bit depth is expected


def test_corrupt_file_raise_or_skip(tmp_path: Path) -> None:
    make_vkitti1(tmp_path, frames=2)
    bad = tmp_path / "depthgt" / "0001" / "clone" / "00001.png"
    truncate(bad)
    ds = VKitti1Dataset(tmp_path)
    ds[0]
    with pytest.raises(DataFileError, match=r"depthgt/0001/clone/00001.png"):
        ds[1]
    skip = VKitti1Dataset(tmp_path, on_error="skip")
    with pytest.warns(RuntimeWarning, match="00001.png"):
        s = skip[1]
    assert s["index"] == 2 and s["skipped"] == 1 and s["name"] == "0001/fog/00000"
    assert skip.num_skipped == 1 and str(bad) in skip.skipped
    assert s["image"].float().std() > 0  # never a zero image
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning for the same file
        assert skip[1]["index"] == 2
    # a mismatched size is an error naming the file too
    write_u16(bad, np.zeros((H + 1, W), np.uint16))
    with pytest.raises(DataFileError, match="00001.png"):
        VKitti1Dataset(tmp_path)[1]


def test_all_bad_raises(tmp_path: Path) -> None:
    write_rgb(tmp_path / "a.png", rgb_pattern(0))
    truncate(tmp_path / "a.png")
    ds = ImageFolderDataset(tmp_path, on_error="skip")
    with pytest.warns(RuntimeWarning), pytest.raises(DataFileError, match="every file"):
        ds[0]


def test_dataloader_workers_and_skip_counts(tmp_path: Path) -> None:
    for i in range(8):
        write_rgb(tmp_path / "img" / f"{i:03d}.png", rgb_pattern(i, 24, 32))
        write_u16(tmp_path / "dep" / f"{i:03d}.png", np.full((24, 32), 1000 * (i + 1), np.uint16))
    truncate(tmp_path / "img" / "005.png")
    ds = PairedFolderDataset(tmp_path / "img", tmp_path / "dep", depth_scale=1 / 1000, on_error="skip",
                             transform=S2RTransform(size=(16, 32), train=True))
    pickle.loads(pickle.dumps(ds))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skip warnings in workers; pin_memory without an accelerator
        loader = DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True, shuffle=False)
        batches = list(loader)
    assert len(batches) == 2
    b = batches[0]
    assert b["image"].shape == (4, 3, 16, 32) and b["image"].dtype == torch.float32
    assert b["depth_net"].shape == (4, 1, 16, 32) and b["valid"].dtype == torch.bool
    if torch.cuda.is_available():
        assert b["image"].is_pinned()
    names = [n for bb in batches for n in bb["name"]]
    assert names == ["000", "001", "002", "003", "004", "006", "006", "007"]  # 005 replaced by the next
    assert int(sum(bb["skipped"].sum() for bb in batches)) == 1  # counted across workers


def test_dataloader_worker_raises_naming_file(tmp_path: Path) -> None:
    for i in range(4):
        write_rgb(tmp_path / f"{i}.png", rgb_pattern(i))
    truncate(tmp_path / "2.png")
    ds = ImageFolderDataset(tmp_path)
    loader = DataLoader(ds, batch_size=1, num_workers=2)
    with pytest.raises(Exception, match="2.png"):
        list(loader)
