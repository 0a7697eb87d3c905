"""ONNX operators the TensorRT ONNX parser imports, for checking exported graphs without TensorRT.

:data:`TENSORRT_ONNX_OPS` lists the standard-domain operators that the parser of TensorRT 8.5
(JetPack 5, ONNX opset ≤ 17) supports, from the operator support matrix of ``onnx-tensorrt``
(``docs/operators.md`` on the ``release/8.5-GA`` branch), with the restrictions that matter for
exported depth graphs. TensorRT 10.x parses a superset of these (plus opset-18+ operators such
as ``GroupNormalization``). :func:`tensorrt_compatibility` applies the list and the other known
limits to an ONNX model.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

__all__ = ["TENSORRT_MAX_OPSET", "TENSORRT_ONNX_OPS", "tensorrt_compatibility"]

#: Highest ONNX opset the TensorRT 8.5 parser imports.
TENSORRT_MAX_OPSET = 17

#: Operator → restriction note ("" when none) for the TensorRT 8.5 ONNX parser.
TENSORRT_ONNX_OPS: dict[str, str] = {
    "Abs": "", "Acos": "", "Acosh": "", "Add": "", "And": "BOOL", "ArgMax": "", "ArgMin": "",
    "Asin": "", "Asinh": "", "Atan": "", "Atanh": "", "AveragePool": "2-D or 3-D pooling only",
    "BatchNormalization": "", "Cast": "FP32, FP16, INT32, INT8, BOOL (UINT8 from TensorRT 8.6)",
    "Ceil": "", "Celu": "", "Clip": "", "Concat": "", "Constant": "", "ConstantOfShape": "FP32",
    "Conv": "weights must be an initializer", "ConvTranspose": "weights must be an initializer",
    "Cos": "", "Cosh": "", "CumSum": "axis must be an initializer", "DepthToSpace": "",
    "DequantizeLinear": "zero point must be 0", "Div": "", "Dropout": "",
    "Einsum": "no ellipsis, diagonal or broadcasting", "Elu": "", "Equal": "", "Erf": "",
    "Exp": "", "Expand": "", "EyeLike": "", "Flatten": "", "Floor": "", "Gather": "",
    "GatherElements": "", "GatherND": "", "Gemm": "", "GlobalAveragePool": "", "GlobalLpPool": "",
    "GlobalMaxPool": "", "Greater": "", "GreaterOrEqual": "", "GridSample": "", "GRU": "",
    "HardSigmoid": "", "HardSwish": "", "Identity": "", "If": "", "ImageScaler": "",
    "InstanceNormalization": "scale and bias must be initializers; rank 3-5 "
                             "(TensorRT 8.5: InstanceNormalization_TRT plugin; 8.6+: native)",
    "IsNaN": "", "LeakyRelu": "", "Less": "", "LessOrEqual": "", "Log": "", "LogSoftmax": "",
    "Loop": "", "LRN": "", "LSTM": "", "LpNormalization": "", "LpPool": "", "MatMul": "",
    "Max": "", "MaxPool": "2-D or 3-D pooling only; no Indices output", "Mean": "",
    "MeanVarianceNormalization": "", "Min": "", "Mod": "", "Mul": "", "Neg": "",
    "NonMaxSuppression": "", "NonZero": "", "Not": "", "OneHot": "", "Or": "", "Pad": "",
    "ParametricSoftplus": "", "Pow": "", "PRelu": "", "QuantizeLinear": "zero point must be 0",
    "RandomNormal": "", "RandomNormalLike": "", "RandomUniform": "", "RandomUniformLike": "",
    "Range": "", "Reciprocal": "", "ReduceL1": "", "ReduceL2": "", "ReduceLogSum": "",
    "ReduceLogSumExp": "", "ReduceMax": "", "ReduceMean": "", "ReduceMin": "", "ReduceProd": "",
    "ReduceSum": "", "ReduceSumSquare": "", "Relu": "", "Reshape": "",
    "Resize": "modes nearest/linear; coordinate modes half_pixel, pytorch_half_pixel, "
              "tf_half_pixel_for_nn, asymmetric, align_corners",
    "ReverseSequence": "static shapes", "RNN": "", "RoiAlign": "", "Round": "", "ScaledTanh": "",
    "Scan": "", "Scatter": "", "ScatterElements": "", "ScatterND": "", "Selu": "", "Shape": "",
    "Shrink": "", "Sigmoid": "", "Sign": "", "Sin": "", "Sinh": "", "Size": "",
    "Slice": "axes must be an initializer", "Softmax": "", "Softplus": "", "Softsign": "",
    "SpaceToDepth": "", "Split": "", "Sqrt": "", "Squeeze": "axes must be an initializer",
    "Sub": "", "Sum": "", "Tan": "", "Tanh": "", "ThresholdedRelu": "", "Tile": "",
    "TopK": "K must be an initializer", "Transpose": "", "Trilu": "",
    "Unsqueeze": "axes must be a constant", "Upsample": "", "Where": "", "Xor": "BOOL",
}

_RESIZE_COORD_MODES = {"half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric",
                       "align_corners"}


def _version_tuple(version: str) -> tuple[int, int]:
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def tensorrt_compatibility(model: Any, tensorrt_version: str = "8.5",
                           extra_ops: Optional[Iterable[str]] = None) -> list[str]:
    """Problems that would stop TensorRT ``tensorrt_version`` from parsing ``model`` (an
    ``onnx.ModelProto`` or path); an empty list when none are known.

    Checks: opset ≤ 17 (TensorRT 8.x), standard-domain operators in :data:`TENSORRT_ONNX_OPS`
    (plus ``extra_ops``), ``Conv``/``ConvTranspose`` weights and ``InstanceNormalization``
    scale/bias as initializers, ``Resize`` modes, and no ``uint8`` graph input before
    TensorRT 8.6.
    """
    import onnx

    from .onnx_export import onnx_op_types

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    major_minor = _version_tuple(tensorrt_version)
    problems: list[str] = []
    opset = {o.domain or "": o.version for o in model.opset_import}.get("", 0)
    if major_minor < (10, 0) and opset > TENSORRT_MAX_OPSET:
        problems.append(f"opset {opset} > {TENSORRT_MAX_OPSET} (the TensorRT 8.x parser maximum)")
    allowed = set(TENSORRT_ONNX_OPS) | set(extra_ops or ())
    for (domain, op), count in sorted(onnx_op_types(model).items()):
        if domain not in ("", "ai.onnx"):
            problems.append(f"{domain}::{op} x{count}: custom-domain operator")
        elif op not in allowed:
            problems.append(f"{op} x{count}: not supported by the TensorRT ONNX parser")
    constants = {i.name for i in model.graph.initializer}
    constants |= {n.output[0] for n in model.graph.node if n.op_type == "Constant"}
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose") and node.input[1] not in constants:
            problems.append(f"{node.op_type} {node.name!r}: weights are not an initializer")
        if node.op_type == "InstanceNormalization" and not all(i in constants for i in node.input[1:3]):
            problems.append(f"InstanceNormalization {node.name!r}: scale/bias are not initializers")
        if node.op_type == "Resize":
            attrs = {a.name: a for a in node.attribute}
            mode = attrs["mode"].s.decode() if "mode" in attrs else "nearest"
            coord = (attrs["coordinate_transformation_mode"].s.decode()
                     if "coordinate_transformation_mode" in attrs else "half_pixel")
            if mode not in ("nearest", "linear"):
                problems.append(f"Resize {node.name!r}: mode {mode!r} unsupported")
            if coord not in _RESIZE_COORD_MODES:
                problems.append(f"Resize {node.name!r}: coordinate mode {coord!r} unsupported")
    if major_minor < (8, 6):
        for inp in model.graph.input:
            if inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8:
                problems.append(f"input {inp.name!r} is uint8: TensorRT < 8.6 cannot take uint8 "
                                "inputs; export with input_dtype='float32'")
    return problems
