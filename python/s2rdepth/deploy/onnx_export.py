"""ONNX export of a :class:`~s2rdepth.deploy.graph.DepthGraph` at opset 17, standard domain only.

Opset 17 is what TensorRT 8.5 (JetPack 5) parses. The default exporter of current PyTorch
(``torch.onnx.export(..., dynamo=True)``, through onnxscript) emits opset 18 and its automatic
down-conversion fails on ``Pad``; :func:`downgrade_to_opset17` therefore rewrites the few
operators whose signature changed between opsets 17 and 18 (``Pad`` without ``axes``, ``Resize``
with default new attributes, ``Reduce*`` axes input → attribute) and refuses anything it cannot
map exactly. The result is checked with the ONNX checker (full check, strict shape inference).
``exporter="torchscript"`` uses the legacy TorchScript-based exporter at opset 17 directly
(older PyTorch without onnxscript).

Graph conventions: input ``image`` (N x 3 x H x W, ``uint8`` or ``float32`` in [0, 1]), outputs
``depth`` (metres, N x 1 x H x W) and optionally ``structure`` and ``attention``; the batch
dimension is named ``batch`` when dynamic. Metadata is stored in ``metadata_props`` under the key
``s2rdepth`` (JSON, see :mod:`s2rdepth.deploy.artifacts`).
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from collections import Counter
from typing import Any, Iterable, Mapping, Optional, Sequence

import torch

__all__ = ["ONNX_OPSET", "OnnxDowngradeError", "check_onnx_graph", "downgrade_to_opset17",
           "export_onnx", "onnx_op_types"]

#: The opset of exported models.
ONNX_OPSET = 17
#: IR version matching opset 17 (ONNX 1.12), readable by TensorRT 8.5's parser.
ONNX_IR_VERSION = 8

#: Operators added in opset 18 (no opset-17 equivalent node).
_NEW_IN_18 = {"BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "CenterCropPad", "Col2Im",
              "GroupNormalization", "Mish", "OptionalGetElement", "OptionalHasElement"}
#: Reductions whose ``axes`` moved from an attribute to an input in opset 18.
_REDUCE_18 = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
              "ReduceMin", "ReduceProd", "ReduceSumSquare"}


class OnnxDowngradeError(RuntimeError):
    """The opset-18 graph uses an operator form that has no exact opset-17 equivalent."""


def onnx_op_types(model: Any) -> Counter:
    """``Counter`` of ``(domain, op_type)`` over every node (subgraphs and functions included).

    ``model`` is an ``onnx.ModelProto`` or a path. The standard domain is ``""``.
    """
    import onnx

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    counts: Counter = Counter()

    def visit(graph: Any) -> None:
        for node in graph.node:
            counts[(node.domain or "", node.op_type)] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        visit(g)

    visit(model.graph)
    for fn in model.functions:
        for node in fn.node:
            counts[(node.domain or "", node.op_type)] += 1
    return counts


def _constant_ints(model: Any, name: str) -> Optional[list[int]]:
    """Values of an int64 initializer or Constant node output ``name`` (``None`` if not constant)."""
    from onnx import numpy_helper

    for init in model.graph.initializer:
        if init.name == name:
            return [int(v) for v in numpy_helper.to_array(init).reshape(-1)]
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output and node.output[0] == name:
            for attr in node.attribute:
                if attr.name == "value":
                    return [int(v) for v in numpy_helper.to_array(attr.t).reshape(-1)]
                if attr.name == "value_ints":
                    return [int(v) for v in attr.ints]
    return None


def downgrade_to_opset17(model: Any) -> Any:
    """Rewrite an opset-18 ``onnx.ModelProto`` (standard domain) as opset 17, in place.

    Raises :class:`OnnxDowngradeError` for operator forms without an exact opset-17 equivalent
    (``Pad`` with ``axes``, non-default ``Resize`` 18 attributes, new operators, ``Split`` with
    ``num_outputs``, non-constant reduction axes, ...). Returns ``model``.
    """
    import onnx
    from onnx import helper

    versions = {o.domain or "": o.version for o in model.opset_import}
    if versions.get("", 0) <= ONNX_OPSET:
        return model
    if versions[""] != 18:
        raise OnnxDowngradeError(f"can only downgrade opset 18 to 17, got opset {versions['']}")
    if model.functions:
        raise OnnxDowngradeError("model holds local functions; inline them first")
    for node in model.graph.node:
        where = f"node {node.name or node.op_type!r} ({node.op_type})"
        if (node.domain or "") != "":
            raise OnnxDowngradeError(f"{where}: non-standard domain {node.domain!r}")
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise OnnxDowngradeError(f"{where}: subgraphs are not supported")
        op = node.op_type
        if op in _NEW_IN_18:
            raise OnnxDowngradeError(f"{where}: operator added in opset 18")
        if op == "Pad":
            if len(node.input) > 3 and node.input[3]:
                raise OnnxDowngradeError(f"{where}: Pad with an axes input (opset 18 only)")
        elif op == "Resize":
            keep = []
            for attr in node.attribute:
                if attr.name == "antialias" and attr.i != 0:
                    raise OnnxDowngradeError(f"{where}: antialiased Resize (opset 18 only)")
                if attr.name == "axes":
                    raise OnnxDowngradeError(f"{where}: Resize with axes (opset 18 only)")
                if attr.name == "keep_aspect_ratio_policy" and attr.s not in (b"", b"stretch"):
                    raise OnnxDowngradeError(f"{where}: Resize keep_aspect_ratio_policy (opset 18 only)")
                if attr.name not in ("antialias", "axes", "keep_aspect_ratio_policy"):
                    keep.append(attr)
            del node.attribute[:]
            node.attribute.extend(keep)
        elif op in _REDUCE_18:
            noop = next((a.i for a in node.attribute if a.name == "noop_with_empty_axes"), 0)
            if len(node.input) > 1 and node.input[1]:
                axes = _constant_ints(model, node.input[1])
                if axes is None:
                    raise OnnxDowngradeError(f"{where}: reduction axes are not constant")
                del node.input[1:]
                if axes:
                    node.attribute.append(helper.make_attribute("axes", axes))
                elif noop:
                    raise OnnxDowngradeError(f"{where}: noop_with_empty_axes has no opset-17 form")
            elif noop:
                raise OnnxDowngradeError(f"{where}: noop_with_empty_axes has no opset-17 form")
            keep = [a for a in node.attribute if a.name != "noop_with_empty_axes"]
            del node.attribute[:]
            node.attribute.extend(keep)
        elif op == "Split":
            if any(a.name == "num_outputs" for a in node.attribute):
                raise OnnxDowngradeError(f"{where}: Split with num_outputs (opset 18 only)")
        elif op in ("ScatterElements", "ScatterND"):
            for attr in node.attribute:
                if attr.name == "reduction" and attr.s in (b"max", b"min"):
                    raise OnnxDowngradeError(f"{where}: {op} reduction max/min (opset 18 only)")
        elif op == "LpPool":
            if any(a.name == "dilations" for a in node.attribute):
                raise OnnxDowngradeError(f"{where}: LpPool dilations (opset 18 only)")
    for entry in model.opset_import:
        if (entry.domain or "") == "":
            entry.version = ONNX_OPSET
    # Drop unused Constant nodes left by the axes conversion (keeps the graph tidy).
    used = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
    nodes = [n for n in model.graph.node if not (n.op_type == "Constant" and n.output[0] not in used)]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def _set_ir_version(model: Any) -> None:
    """Lower the IR version to 8 (ONNX 1.12, opset 17) when nothing newer is used."""
    import onnx

    newer_types = {getattr(onnx.TensorProto, n) for n in
                   ("FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
                    "FLOAT4E2M1", "FLOAT8E8M0") if hasattr(onnx.TensorProto, n)}
    types = {t.type.tensor_type.elem_type for t in
             list(model.graph.input) + list(model.graph.output) + list(model.graph.value_info)}
    types |= {init.data_type for init in model.graph.initializer}
    if model.functions or types & newer_types:
        return
    model.ir_version = min(model.ir_version, ONNX_IR_VERSION)


def check_onnx_graph(model: Any, *, allowed_domains: Iterable[str] = ("",)) -> Counter:
    """Validate an exported model: ONNX checker (full check), standard-domain ops only, no
    ``s2rdepth`` op, every ``InstanceNormalization`` with constant scale and bias. Returns the
    op-type counts (:func:`onnx_op_types`). Raises ``ValueError`` on a violation."""
    import onnx

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    onnx.checker.check_model(model, full_check=True)
    counts = onnx_op_types(model)
    allowed = set(allowed_domains)
    bad = sorted(f"{d}::{op}" for d, op in counts if d not in allowed)
    if bad:
        raise ValueError(f"ONNX graph holds non-standard ops: {', '.join(bad)}")
    constants = {i.name for i in model.graph.initializer}
    constants |= {n.output[0] for n in model.graph.node if n.op_type == "Constant"}
    for node in model.graph.node:
        if node.op_type == "InstanceNormalization":
            if len(node.input) < 3 or not all(i in constants for i in node.input[1:3]):
                raise ValueError(f"InstanceNormalization {node.name!r} has a non-constant scale or bias")
    return counts


def export_onnx(graph: torch.nn.Module, out: str | os.PathLike[str], example: torch.Tensor, *,
                output_names: Sequence[str] = ("depth",), dynamic_batch: bool = False,
                max_batch: int = 64, metadata: Optional[Mapping[str, Any]] = None,
                exporter: str = "auto") -> Any:
    """Export ``graph`` (called on ``example``) to ``out`` as an opset-17 ONNX model.

    Args:
        output_names: names of the graph outputs, in order.
        dynamic_batch: make the batch dimension symbolic (``batch``, 1 … ``max_batch``).
        metadata: JSON-serialisable artifact metadata, stored in ``metadata_props["s2rdepth"]``.
        exporter: ``"dynamo"`` (torch.export + onnxscript, then :func:`downgrade_to_opset17`),
            ``"torchscript"`` (legacy exporter) or ``"auto"`` (dynamo on torch ≥ 2.6 with
            onnxscript importable, else legacy).
    Returns the checked ``onnx.ModelProto`` (also written to ``out``).
    """
    import onnx

    if exporter == "auto":
        exporter = "torchscript"
        major_minor = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2])
        if major_minor >= (2, 6):  # the torch.export-based exporter is the default from 2.9
            try:
                import onnxscript  # noqa: F401
                exporter = "dynamo"
            except ImportError:
                pass
    if exporter not in ("dynamo", "torchscript"):
        raise ValueError(f"exporter must be 'auto', 'dynamo' or 'torchscript', got {exporter!r}")
    graph = graph.eval()
    names = list(output_names)
    onnx_logger = logging.getLogger("torch.onnx")  # e.g. "torchvision is not installed" notices
    saved_level = onnx_logger.level
    onnx_logger.setLevel(logging.ERROR)
    try:
        model = _run_exporter(graph, example, names, dynamic_batch, max_batch, exporter)
    finally:
        onnx_logger.setLevel(saved_level)
    _set_ir_version(model)
    del model.metadata_props[:]
    if metadata is not None:
        entry = model.metadata_props.add()
        entry.key = "s2rdepth"
        entry.value = json.dumps(dict(metadata), sort_keys=True)
    model.producer_name = "s2rdepth"
    check_onnx_graph(model)
    from ..checkpoint import atomic_write

    atomic_write(out, lambda tmp: onnx.save_model(model, str(tmp)))
    return model


def _run_exporter(graph: torch.nn.Module, example: torch.Tensor, names: list, dynamic_batch: bool,
                  max_batch: int, exporter: str) -> Any:
    """The exported ``onnx.ModelProto`` at opset 17 (before metadata and checks)."""
    import onnx

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter (deprecations, tracer notes)
        if exporter == "dynamo":
            dynamic_shapes = None
            if dynamic_batch:
                batch = torch.export.Dim("batch", min=1, max=max(2, int(max_batch)))
                dynamic_shapes = ({0: batch},)
            program = torch.onnx.export(graph, (example,), dynamo=True, opset_version=18,
                                        input_names=["image"], output_names=names,
                                        dynamic_shapes=dynamic_shapes, verbose=False,
                                        optimize=True)
            model = program.model_proto
            downgrade_to_opset17(model)
        else:
            import io

            buf = io.BytesIO()
            dynamic_axes = {n: {0: "batch"} for n in ["image", *names]} if dynamic_batch else None
            torch.onnx.export(graph, (example,), buf, dynamo=False, opset_version=ONNX_OPSET,
                              input_names=["image"], output_names=names, dynamic_axes=dynamic_axes,
                              do_constant_folding=True)
            model = onnx.load_from_string(buf.getvalue())
    return model
