"""Exported artifacts: TorchScript (loaded without s2rdepth), torch.export, ONNX opset 17 in
onnxruntime, the TensorRT op list (engines when tensorrt and a GPU are present), metadata,
size and format errors, and the `s2rdepth export` command."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import s2rdepth
from s2rdepth.checkpoint import file_sha256, save_model
from s2rdepth.deploy import Predictor, read_metadata, tensorrt_compatibility
from s2rdepth.deploy.demo import make_demo_model
from s2rdepth.deploy.graph import build_graph
from s2rdepth.deploy.onnx_export import OnnxDowngradeError, check_onnx_graph, downgrade_to_opset17
from s2rdepth.deploy.tensorrt_engine import tensorrt_available
from s2rdepth.deploy.tensorrt_ops import TENSORRT_ONNX_OPS

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]

NET = (64, 128)
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
KITTI_FRAME = REALDATA / "kitti_raw/2011_09_26/2011_09_26_drive_0086_sync/image_02/data/0000000108.png"


def _images(n: int, h: int = NET[0], w: int = NET[1], seed: int = 0) -> torch.Tensor:
    """n smooth random RGB images, uint8 N x 3 x h x w."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, h // 8, w // 8, generator=g)
    x = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    x = (x + 0.05 * torch.rand(n, 3, h, w, generator=g)).clamp(0, 1)
    return (x * 255).round().to(torch.uint8)


def max_rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest error relative to the output's magnitude: max |got - ref| / max |ref|.

    (Elementwise ratios are meaningless near S2R depth 0, where float32 rounding of the network
    output y ≈ -1 is amplified: even float32 against float64 of the same graph reaches 1e-4
    there, while this measure stays near 2e-5.)"""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export")


@pytest.fixture(scope="module")
def s2r_model():
    return make_demo_model("s2r", "tiny")


@pytest.fixture(scope="module")
def s2r_ckpt(work, s2r_model) -> Path:
    path = work / "s2r_tiny.safetensors"
    save_model(path, s2r_model, extra={"network_size": list(NET)})
    return path


@pytest.fixture(scope="module")
def da_ckpt(work) -> Path:
    path = work / "da_tiny.safetensors"
    save_model(path, make_demo_model("da_monodepth", "tiny"), extra={"network_size": list(NET)})
    return path


@pytest.fixture(scope="module")
def eager_maps(s2r_model):
    """Reference: the eager graph with the fused ops, (depth, structure, attention)."""
    graph = build_graph(s2r_model, *NET, outputs="depth structure attention".split(), export_ops=False)

    def run(x: torch.Tensor):
        with torch.no_grad():
            return [t.numpy() for t in graph(x)]
    return run


@pytest.fixture(scope="module")
def torchscript_artifact(work, s2r_ckpt) -> Path:
    return s2rdepth.export(s2r_ckpt, format="torchscript", out=work / "s2r.pt", outputs="all")


@pytest.fixture(scope="module")
def onnx_artifact(work, s2r_ckpt) -> Path:
    return s2rdepth.export(s2r_ckpt, format="onnx", out=work / "s2r.onnx", outputs="all",
                           dynamic_batch=True, max_batch=8)


# ---------------------------------------------------------------------------------------------
# TorchScript
# ---------------------------------------------------------------------------------------------
SUBPROCESS = textwrap.dedent("""
    import json, sys
    sys.modules["s2rdepth"] = None          # any import of s2rdepth now fails
    import numpy as np, torch
    torch.set_num_threads(1)
    extra = {"s2rdepth.json": ""}
    module = torch.jit.load(sys.argv[1], map_location="cpu", _extra_files=extra)
    meta = json.loads(extra["s2rdepth.json"])
    x = torch.from_numpy(np.load(sys.argv[2]))
    with torch.no_grad():
        depth, structure, attention = module(x)
        depth_float = module(x.float() / 255.0)[0]
    np.savez(sys.argv[3], depth=depth.numpy(), structure=structure.numpy(),
             attention=attention.numpy(), depth_float=depth_float.numpy())
    print(json.dumps({"height": meta["input_height"], "width": meta["input_width"],
                      "loaded": sorted(m for m in sys.modules if m.startswith("s2rdepth"))}))
""")


def test_torchscript_loads_without_s2rdepth_and_matches_predict(work, torchscript_artifact, s2r_ckpt,
                                                                eager_maps):
    images = _images(3, seed=1)
    np.save(work / "x.npy", images.numpy())
    proc = subprocess.run([sys.executable, "-c", SUBPROCESS, str(torchscript_artifact), str(work / "x.npy"),
                           str(work / "ts_out.npz")], capture_output=True, text=True, timeout=120,
                          cwd=str(work))
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (info["height"], info["width"]) == NET and info["loaded"] == ["s2rdepth"]  # the None stub only
    got = np.load(work / "ts_out.npz")
    ref = s2rdepth.predict(images, model=s2r_ckpt, output="all", device="cpu")
    for name in ("depth", "structure", "attention"):
        stacked = np.stack([r[name] for r in ref])
        assert max_rel_error(got[name][:, 0], stacked) <= 1e-4, name
    np.testing.assert_allclose(got["depth_float"], got["depth"], rtol=1e-6)
    eager = eager_maps(images)
    assert max_rel_error(got["depth"], eager[0]) <= 1e-4


def test_torchscript_artifact_in_predict_and_metadata(torchscript_artifact, s2r_ckpt):
    meta = read_metadata(torchscript_artifact)
    assert meta["artifact_format"] == "torchscript" and meta["arch"] == "s2r"
    assert (meta["input_height"], meta["input_width"]) == NET and meta["input_dtype"] == "any"
    assert meta["outputs"] == ["depth", "structure", "attention"]
    assert (meta["depth_min_m"], meta["depth_max_m"]) == (0.0, 80.0) and meta["depth_unit"] == "m"
    assert meta["source_checkpoint"] == s2r_ckpt.name
    assert meta["source_checkpoint_sha256"] == file_sha256(s2r_ckpt)
    assert meta["s2rdepth_version"] == s2rdepth.__version__ and meta["torch_version"] == torch.__version__
    assert len(meta["weights_sha256"]) == 64
    # an image of another size: predict resizes in and out (documented conversion)
    img = _images(1, 90, 300, seed=2)[0]
    ref = s2rdepth.predict(img, model=s2r_ckpt)
    got = s2rdepth.predict(img, model=torchscript_artifact)
    assert got.shape == (90, 300)
    assert max_rel_error(got, ref) <= 1e-4
    if KITTI_FRAME.is_file():
        a = s2rdepth.predict(KITTI_FRAME, model=torchscript_artifact)
        b = s2rdepth.predict(KITTI_FRAME, model=s2r_ckpt)
        assert a.shape == (375, 1242) and max_rel_error(a, b) <= 1e-4


def test_artifact_exported_at_another_size(torchscript_artifact):
    module = torch.jit.load(str(torchscript_artifact))  # raises torch.jit.Error (not a RuntimeError)
    with pytest.raises(Exception, match=r"exported for 64 x 128 images, got 96 x 128"):
        module(_images(1, 96, 128))
    with pytest.raises(Exception, match="N x 3 x H x W"):
        module(torch.zeros(1, 1, 64, 128))
    runner = Predictor(torchscript_artifact).runner
    with pytest.raises(RuntimeError, match="exported for 64 x 128"):
        runner(_images(1, 96, 128))
    with pytest.raises(ValueError, match="cannot be changed"):
        Predictor(torchscript_artifact, network_size=(96, 128))
    with pytest.raises(ValueError, match="cannot be changed"):
        Predictor(torchscript_artifact, max_depth=10.0)


# ---------------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------------
def test_onnx_graph_is_standard_opset17(onnx_artifact):
    import onnx

    model = onnx.load(str(onnx_artifact))
    counts = check_onnx_graph(model)  # ONNX checker (full) + standard domain + constant IN params
    assert {o.domain or "": o.version for o in model.opset_import} == {"": 17}
    assert model.ir_version == 8
    ops = {op for _, op in counts}
    assert all(domain == "" for domain, _ in counts)
    assert "InstanceNormalization" in ops and not any("s2rdepth" in op for op in ops)
    init = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "InstanceNormalization":  # constant scale 1, bias 0
            np.testing.assert_array_equal(init[node.input[1]], 1.0)
            np.testing.assert_array_equal(init[node.input[2]], 0.0)
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["depth", "structure", "attention"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [3, *NET]
    meta = json.loads({p.key: p.value for p in model.metadata_props}["s2rdepth"])
    assert meta["onnx_opset"] == 17 and meta["dynamic_batch"] and meta["input_dtype"] == "float32"
    # every op is one the TensorRT 8.5 ONNX parser imports
    assert not (ops - set(TENSORRT_ONNX_OPS))
    assert tensorrt_compatibility(model, "8.5") == []


def test_onnx_parity_in_onnxruntime(onnx_artifact, eager_maps):
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_artifact), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = _images(n, seed=10 + n)
        got = session.run(None, {"image": x.float().numpy() / 255.0})
        ref = eager_maps(x)
        for name, a, b in zip(("depth", "structure", "attention"), got, ref):
            assert a.shape == b.shape == (n, 1, *NET)
            assert max_rel_error(a, b) <= 1e-4, (name, n)
    # through predict, on an image of another size
    img = _images(1, 90, 300, seed=5)[0]
    a = s2rdepth.predict(img, model=onnx_artifact, output="all")
    ref = build_graph(make_demo_model("s2r", "tiny"), *NET, outputs="depth structure attention".split(),
                      resize=True, export_ops=False)
    with torch.no_grad():
        b = [t[0, 0].numpy() for t in ref(img[None])]
    assert max_rel_error(a["depth"], b[0]) <= 1e-4


def test_onnx_uint8_static_batch_da_monodepth(work, da_ckpt):
    """DA-Monodepth at uint8 input and a static batch of 2 (legacy TorchScript-based exporter,
    the dynamo path is covered by the S2R export above): no InstanceNormalization, no GRL, depth
    in metres; predict pads a short batch."""
    import onnx
    import onnxruntime as ort

    path = s2rdepth.export(da_ckpt, format="onnx", out=work / "da_u8.onnx", input_dtype="uint8",
                           batch_size=2, onnx_exporter="torchscript")
    model = onnx.load(str(path))
    ops = {op for _, op in check_onnx_graph(model)}
    assert "InstanceNormalization" not in ops and not ops - set(TENSORRT_ONNX_OPS)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [2, 3, *NET]
    problems = tensorrt_compatibility(model, "8.5")
    assert len(problems) == 1 and "uint8" in problems[0]
    assert tensorrt_compatibility(model, "10.3") == []
    from s2rdepth.checkpoint import load_model

    graph = build_graph(load_model(da_ckpt), *NET, export_ops=False)
    x = _images(2, seed=3)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x.numpy()})[0]
    with torch.no_grad():
        ref = graph(x).numpy()
    assert max_rel_error(got, ref) <= 1e-4
    one = s2rdepth.predict(x[0], model=path)  # padded to the static batch of 2
    assert max_rel_error(one, got[0, 0]) <= 1e-4
    # another image size: resized in float, re-quantised to uint8 for this artifact (documented)
    assert s2rdepth.predict(_images(1, 90, 300, seed=4)[0], model=path).shape == (90, 300)


def test_onnx_legacy_exporter(work, da_ckpt):
    """The TorchScript-based exporter path; on an image of another size, predict resizes the
    DA-Monodepth inverse depth, which matches the eager model (disparity resized, then metres)."""
    path = s2rdepth.export(da_ckpt, format="onnx", out=work / "da_legacy.onnx", onnx_exporter="torchscript")
    check_onnx_graph(path)
    img = _images(1, 90, 300, seed=6)[0]
    assert max_rel_error(s2rdepth.predict(img, model=path), s2rdepth.predict(img, model=da_ckpt)) <= 1e-4


def test_adain_exports_as_instance_norm_then_mul_add(work):
    """AdaIN (MUNIT decoder blocks) becomes InstanceNormalization with constant scale 1 / bias 0,
    then Mul and Add with the per-sample affine."""
    import onnx
    import onnxruntime as ort

    from s2rdepth.models.blocks import AdaINResidualBlock
    from s2rdepth.deploy.graph import replace_fused_modules

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = AdaINResidualBlock(4)

        def forward(self, x, params):
            return self.block(x, params)

    torch.manual_seed(0)
    ref_net = Net().eval()
    net = replace_fused_modules(Net().eval())
    net.load_state_dict(ref_net.state_dict())
    x, params = torch.randn(2, 4, 8, 8), torch.randn(2, 16)
    with torch.no_grad():
        program = torch.onnx.export(net, (x, params), dynamo=True, opset_version=18, verbose=False)
    model = downgrade_to_opset17(program.model_proto)
    counts = check_onnx_graph(model)
    assert counts[("", "InstanceNormalization")] == 2
    assert counts[("", "Mul")] >= 2 and counts[("", "Add")] >= 2
    onnx.save(model, str(work / "adain.onnx"))
    session = ort.InferenceSession(str(work / "adain.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: v.numpy() for i, v in zip(session.get_inputs(), (x, params))})[0]
    with torch.no_grad():
        ref = ref_net(x, params).numpy()  # the fused s2rdepth.ops.adain path
    assert max_rel_error(got, ref) <= 1e-4


def test_opset_downgrade_rules():
    import onnx
    from onnx import TensorProto, helper

    def model_with(node, extra_inits=()):
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 1, 1])], initializer=list(extra_inits))
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])

    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    m = downgrade_to_opset17(model_with(helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1), [axes]))
    node = m.graph.node[0]
    assert list(node.input) == ["x"] and [a.ints for a in node.attribute if a.name == "axes"] == [[2, 3]]
    assert m.opset_import[0].version == 17
    onnx.checker.check_model(m, full_check=True)
    pads = helper.make_tensor("pads", TensorProto.INT64, [8], [0] * 8)
    with pytest.raises(OnnxDowngradeError, match="axes"):
        downgrade_to_opset17(model_with(helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"]), [pads, axes]))
    with pytest.raises(OnnxDowngradeError, match="added in opset 18"):
        downgrade_to_opset17(model_with(helper.make_node("Mish", ["x"], ["y"])))
    with pytest.raises(OnnxDowngradeError, match="antialias"):
        downgrade_to_opset17(model_with(helper.make_node("Resize", ["x", "", "pads"], ["y"], antialias=1), [pads]))


# ---------------------------------------------------------------------------------------------
# torch.export
# ---------------------------------------------------------------------------------------------
def test_torch_export_artifact(work, da_ckpt):
    """torch.export artifact (DA-Monodepth, uint8 input, static batch 1; the S2R graph goes through
    torch.export inside the dynamo ONNX export above)."""
    from s2rdepth.checkpoint import load_model

    path = s2rdepth.export(da_ckpt, format="torch-export", out=work / "da.pt2", input_dtype="uint8")
    meta = read_metadata(path)
    assert meta["artifact_format"] == "torch-export" and not meta["dynamic_batch"] and meta["batch_opt"] == 1
    program = torch.export.load(str(path))
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert targets and not any("s2rdepth" in t for t in targets)
    graph = build_graph(load_model(da_ckpt), *NET, export_ops=False)
    x = _images(3, seed=8)
    with torch.no_grad():
        got = program.module()(x[:1])
        ref = graph(x).numpy()
    assert max_rel_error(got.numpy(), ref[:1]) <= 1e-4
    with pytest.raises(Exception):
        program.module()(_images(1, 96, 128))
    got3 = s2rdepth.predict(list(x), model=path, batch_size=8)  # three calls of the batch-1 program
    assert len(got3) == 3 and max_rel_error(np.stack(got3), ref[:, 0]) <= 1e-4


# ---------------------------------------------------------------------------------------------
# TensorRT
# ---------------------------------------------------------------------------------------------
@pytest.mark.cuda
@pytest.mark.skipif(not (tensorrt_available() and torch.cuda.is_available()),
                    reason="TensorRT engine test needs the tensorrt package and a CUDA GPU "
                           "(without them the ONNX graph is checked against the parser's op list)")
def test_tensorrt_engine_fp32_and_fp16(work, s2r_ckpt, eager_maps):
    engine = s2rdepth.export(s2r_ckpt, format="tensorrt", out=work / "s2r.engine", dynamic_batch=True,
                             batch_size=2, max_batch=4, timing_cache=work / "timing.cache")
    meta = read_metadata(engine)
    assert meta["precision"] == "fp32" and meta["tensorrt_version"] and (work / "timing.cache").is_file()
    x = _images(3, seed=9)
    got = s2rdepth.predict(list(x), model=engine, device="cuda")
    ref = eager_maps(x)[0]
    for i in range(3):
        assert max_rel_error(got[i], ref[i, 0]) <= 1e-3
    fp16 = s2rdepth.export(s2r_ckpt, format="tensorrt", out=work / "s2r16.engine", fp16=True)
    got16 = s2rdepth.predict(x[0], model=fp16, device="cuda")
    assert np.abs(got16 - ref[0, 0]).mean() < 0.5  # metres; FP16 with FP32 instance norms


def test_tensorrt_export_without_tensorrt_is_a_clear_error(work, s2r_ckpt):
    if tensorrt_available():
        pytest.skip("tensorrt is installed")
    with pytest.raises(RuntimeError, match="tensorrt"):
        s2rdepth.export(s2r_ckpt, format="tensorrt", out=work / "x.engine")
    (work / "fake.engine").write_bytes(b"not an engine")
    with pytest.raises(RuntimeError, match="TensorRT"):
        Predictor(work / "fake.engine")


# ---------------------------------------------------------------------------------------------
# API and command-line errors
# ---------------------------------------------------------------------------------------------
def test_export_argument_errors(work, s2r_ckpt, da_ckpt):
    with pytest.raises(ValueError, match="format"):
        s2rdepth.export(s2r_ckpt, format="caffe", out=work / "x")
    with pytest.raises(ValueError, match="tensorrt.* only"):
        s2rdepth.export(s2r_ckpt, format="onnx", out=work / "x.onnx", fp16=True)
    with pytest.raises(ValueError, match="divisible by 16"):
        s2rdepth.export(s2r_ckpt, format="torchscript", out=work / "x.pt", height=100, width=128)
    with pytest.raises(ValueError, match="cannot output"):
        s2rdepth.export(da_ckpt, format="torchscript", out=work / "x.pt", outputs="all")
    with pytest.raises(ValueError, match="input_dtype"):
        s2rdepth.export(s2r_ckpt, format="onnx", out=work / "x.onnx", input_dtype="float16")
    with pytest.raises(TypeError):
        s2rdepth.export(torch.nn.Conv2d(3, 3, 1), format="torchscript", out=work / "x.pt")
    with pytest.raises(FileNotFoundError):
        s2rdepth.export(work / "missing.safetensors", format="torchscript", out=work / "x.pt")
    assert not (work / "x.pt").exists() and not (work / "x.onnx").exists()


def _cli(argv: list[str]) -> int:
    """Run the real ``s2rdepth`` entry point (errors go to stderr)."""
    from s2rdepth.cli import main

    return main(argv)


def test_cli_export(work, da_ckpt, capsys):
    out = work / "cli_da.pt"
    assert _cli(["export", "--checkpoint", str(da_ckpt), "--format", "torchscript", "--out", str(out),
                 "--height", "64", "--width", "128", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["arch"] == "da_monodepth" and meta["depth_min_m"] == pytest.approx(0.1)
    assert meta["depth_max_m"] == pytest.approx(100.0) and out.is_file()
    assert _cli(["export", "--checkpoint", str(da_ckpt), "--format", "torchscript", "--out",
                 str(work / "cli_da50.pt"), "--max-depth", "50"]) == 0
    assert "depth 0.1..50 m" in capsys.readouterr().out
    assert read_metadata(work / "cli_da50.pt")["depth_max_m"] == 50.0
    assert _cli(["export", "--checkpoint", str(da_ckpt), "--format", "onnx", "--out",
                 str(work / "cli.onnx"), "--int8"]) == 2
    assert "--int8 needs --format tensorrt" in capsys.readouterr().err
    assert _cli(["export", "--checkpoint", str(da_ckpt), "--format", "torchscript", "--out",
                 str(work / "bad.pt"), "--height", "100"]) == 2
    assert "divisible by 32" in capsys.readouterr().err


def test_import_stays_light():
    code = ("import sys, s2rdepth; assert 'torch' not in sys.modules, 'torch imported'; "
            "assert callable(s2rdepth.predict) and callable(s2rdepth.export); print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
