"""Official S2R-DepthNet checkpoints ↔ :class:`~s2rdepth.models.S2RDepthNet`.

The official release ships four ``torch.save``d state dicts (every key and shape is listed in the
package data file ``official_s2r_state_dicts.json``):

=================  ===================  ========================================  ======
component          package module       official keys                             prefix
=================  ===================  ========================================  ======
``encoder``        ``ste_encoder``      ``conv.conv.*``, ``resblock.model.i.*``    none
``struct_decoder`` ``ste_decoder``      ``up1.*``, ``up2.*``, ``conv.*``           module.
``dsa``            ``dsa``              ``E.base.i.*``, ``D.up1..3.*``, ``D.conv``  module.
``depth_net``      ``dp``               ``conv1..4``, ``center.i``, ``deconv*``     module.
=================  ===================  ========================================  ======

The last three were saved from ``DataParallel`` (``module.`` prefix); :func:`load_official_s2r`
strips the prefix when present and :func:`export_official_s2r` writes it by default. The depth
net's single shared PReLU appears under 18 keys in the official files and is one parameter
(``dp.prelu.weight``) in the package.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Optional, Union

import torch
import torch.nn as nn

from ._checkpoint import PathOrStateDict, check_state_dict, \
    load_state_dict_file, strip_prefix
from .s2r import S2RDepthNet

__all__ = ["OFFICIAL_COMPONENTS", "OFFICIAL_FILENAMES", "export_official_s2r", "load_official_component",
           "load_official_s2r", "official_key_shapes", "official_to_package", "package_to_official"]

#: Official component name → attribute of :class:`S2RDepthNet`.
OFFICIAL_COMPONENTS: dict[str, str] = {
    "encoder": "ste_encoder", "struct_decoder": "ste_decoder", "dsa": "dsa", "depth_net": "dp"}

#: File names written by :func:`export_official_s2r` (after the official test script's flags
#: ``--Shared_Struct_Encoder_path``, ``--Struct_Decoder_path``, ``--DSAModle_path``,
#: ``--DepthNet_path``).
OFFICIAL_FILENAMES: dict[str, str] = {
    "encoder": "shared_struct_encoder.pth", "struct_decoder": "struct_decoder.pth",
    "dsa": "dsa_module.pth", "depth_net": "depth_net.pth"}

_DATA_PARALLEL = {"encoder": False, "struct_decoder": True, "dsa": True, "depth_net": True}


@lru_cache(maxsize=1)
def _official_json() -> dict:
    text = resources.files(__package__).joinpath("official_s2r_state_dicts.json").read_text()
    return json.loads(text)


def official_key_shapes(component: str) -> dict[str, tuple[int, ...]]:
    """Key → shape of an official state dict (without the ``module.`` prefix)."""
    _check_component(component)
    return {k: tuple(v) for k, v in _official_json()[component]["state_dict"].items()}


def _check_component(component: str) -> None:
    if component not in OFFICIAL_COMPONENTS:
        raise ValueError(f"unknown official component {component!r}; expected one of "
                         + ", ".join(OFFICIAL_COMPONENTS))


# ---------------------------------------------------------------------------------------------
# key mapping (package key → official key(s))
# ---------------------------------------------------------------------------------------------
_UPPROJ = {"main_conv1": "conv1", "main_bn1": "bn1", "main_conv2": "conv1_2",
           "main_bn2": "bn1_2", "proj_conv": "conv2", "proj_bn": "bn2"}
_UPPROJ_RE = "|".join(_UPPROJ)


def _upproj(m: re.Match) -> str:
    return f"{m.group(1)}up{m.group(2)}.{_UPPROJ[m.group(3)]}.{m.group(4)}"


_Rule = tuple[str, Union[str, Callable[[re.Match], str]]]

_ENCODER_RULES: list[_Rule] = [
    (r"stem\.conv\.(.+)", r"conv.conv.\1"),
    (r"down1\.conv\.(.+)", r"conv1.conv.\1"),
    (r"down2\.conv\.(.+)", r"conv2.conv.\1"),
    (r"res_blocks\.(\d+)\.(conv[12])\.(.+)", r"resblock.model.\1.\2.\3"),
]
_DECODER_RULES: list[_Rule] = [
    (rf"()up(\d)\.({_UPPROJ_RE})\.(.+)", _upproj),
    (r"head\.conv\.(.+)", r"conv.\1"),
]
_DSA_RULES: list[_Rule] = [
    (r"encoder\.layer(\d)\.(.+)", r"E.base.\1.\2"),
    (rf"decoder\.()up(\d)\.({_UPPROJ_RE})\.(.+)", lambda m: "D." + _upproj(m)),
    (r"decoder\.head\.conv\.(.+)", r"D.conv.\1"),
]


def _dp_rules(n_center: int) -> list[_Rule]:
    up = r"\.(conv\.conv|conv\.norm|deconv|deconv_norm)\.(.+)"
    up_idx = {"conv.conv": "1", "conv.norm": "2", "deconv": "4", "deconv_norm": "5"}
    rules: list[_Rule] = [
        (r"stem\.conv\.(.+)", r"conv1.1.\1"),
        (r"stem\.norm\.(.+)", r"conv1.2.\1"),
        (r"down(\d)\.conv1\.conv\.(.+)", lambda m: f"conv{int(m.group(1)) + 1}.model.0.{m.group(2)}"),
        (r"down(\d)\.conv1\.norm\.(.+)", lambda m: f"conv{int(m.group(1)) + 1}.model.1.{m.group(2)}"),
        (r"down(\d)\.conv2\.conv\.(.+)", lambda m: f"conv{int(m.group(1)) + 1}.model.3.{m.group(2)}"),
        (r"down(\d)\.conv2\.norm\.(.+)", lambda m: f"conv{int(m.group(1)) + 1}.model.4.{m.group(2)}"),
        (r"center\.(\d+)\.branches\.(\d+)\.(.+)", r"center.\1.layer\2.1.\3"),
        (r"center\.(\d+)\.cat_norm\.(.+)", r"center.\1.norm1.\2"),
        (r"center\.(\d+)\.fuse\.conv\.(.+)", r"center.\1.branch1x1.1.\2"),
        (r"center\.(\d+)\.fuse\.norm\.(.+)", r"center.\1.norm2.\2"),
        ("center_up" + up, lambda m: f"center.{n_center}.model.{up_idx[m.group(1)]}.{m.group(2)}"),
        (r"heads\.(\d)\.conv\.(.+)", lambda m: f"output{4 - int(m.group(1))}.model.1.{m.group(2)}"),
    ]
    for mine, theirs in (("up3", "deconv4"), ("up2", "deconv3"), ("up1", "deconv2")):
        rules.append((mine + up, lambda m, t=theirs: f"{t}.model.{up_idx[m.group(1)]}.{m.group(2)}"))
    return rules


def _dp_prelu_keys(n_center: int) -> list[str]:
    keys = ["conv1.3.weight"]
    keys += [f"conv{i}.model.{j}.weight" for i in (2, 3, 4) for j in (2, 5)]
    keys += [f"center.{i}.nonlinearity.weight" for i in range(n_center)]
    keys += [f"center.{n_center}.model.{j}.weight" for j in (3, 6)]
    keys += [f"deconv{i}.model.{j}.weight" for i in (4, 3, 2) for j in (3, 6)]
    return keys


def _rules(component: str, module: nn.Module) -> list[_Rule]:
    if component == "encoder":
        return _ENCODER_RULES
    if component == "struct_decoder":
        return _DECODER_RULES
    if component == "dsa":
        return _DSA_RULES
    return _dp_rules(len(module.center))  # type: ignore[arg-type]


def _official_keys_for(component: str, module: nn.Module, key: str) -> list[str]:
    if component == "depth_net" and key == "prelu.weight":
        return _dp_prelu_keys(len(module.center))  # type: ignore[arg-type]
    for pattern, repl in _rules(component, module):
        m = re.fullmatch(pattern, key)
        if m:
            return [repl(m) if callable(repl) else m.expand(repl)]
    raise KeyError(f"no official name for {component} key {key!r}")


def package_to_official(component: str, module: nn.Module,
                        state: Optional[Mapping[str, torch.Tensor]] = None) -> dict[str, torch.Tensor]:
    """State dict of a package module (``model.ste_encoder`` …) under the official key names
    (no ``module.`` prefix). The shared PReLU of the depth net is written under all 18 keys."""
    _check_component(component)
    state = module.state_dict() if state is None else state
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        for official in _official_keys_for(component, module, key):
            out[official] = value
    return out


def official_to_package(component: str, module: nn.Module, official: Mapping[str, torch.Tensor],
                        source: str = "<state dict>") -> dict[str, torch.Tensor]:
    """Official state dict (prefix already stripped, keys checked) → the package module's keys."""
    _check_component(component)
    out: dict[str, torch.Tensor] = {}
    for key in module.state_dict():
        names = _official_keys_for(component, module, key)
        values = [official[n] for n in names]
        if len(values) > 1 and not all(torch.equal(values[0], v) for v in values[1:]):
            raise ValueError(f"{source}: the {len(names)} copies of the shared DP PReLU "
                             f"({', '.join(names[:3])}, ...) differ; the official DepthNet has "
                             f"one PReLU shared by every activation")
        out[key] = values[0]
    return out


# ---------------------------------------------------------------------------------------------
# public load / export
# ---------------------------------------------------------------------------------------------
def load_official_component(model: S2RDepthNet, component: str, source: PathOrStateDict) -> S2RDepthNet:
    """Load one official file (``component`` in ``encoder``, ``struct_decoder``, ``dsa``,
    ``depth_net``) into the matching submodule of ``model`` (e.g. the official encoder to start
    stage 2). Checks every key and shape; returns ``model``."""
    _check_component(component)
    module = getattr(model, OFFICIAL_COMPONENTS[component], None)
    if module is None:
        raise ValueError(f"variant {model.variant!r} has no {OFFICIAL_COMPONENTS[component]} "
                         f"to load the official {component} into")
    state, name = load_state_dict_file(source, f"official S2R-DepthNet {component}")
    state = strip_prefix(state)
    check_state_dict(official_key_shapes(component), state, name,
                     f"expected the official S2R-DepthNet '{component}' checkpoint "
                     f"(keys listed in s2rdepth/models/official_s2r_state_dicts.json)")
    mapped = official_to_package(component, module, state, name)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    check_state_dict(expected, mapped, name, "the model is not in the paper configuration "
                     "(official checkpoints need S2RDepthNet() with width=1.0)")
    module.load_state_dict(mapped, strict=True)
    return model


def load_official_s2r(*, encoder: PathOrStateDict, struct_decoder: PathOrStateDict,
                      dsa: PathOrStateDict, depth_net: PathOrStateDict,
                      max_depth: float = 80.0) -> S2RDepthNet:
    """Build the paper's :class:`S2RDepthNet` from the four official checkpoint files.

    Args:
        encoder, struct_decoder, dsa, depth_net: paths of the official ``.pth`` files (the test
            script's ``--Shared_Struct_Encoder_path``, ``--Struct_Decoder_path``,
            ``--DSAModle_path``, ``--DepthNet_path``) or already-loaded state dicts.
        max_depth: 80 for the outdoor (vKITTI/KITTI) models, 8 for the indoor (SUNCG/NYU) ones.

    Files are read with ``torch.load(weights_only=True)`` (a file with pickled code is refused
    with :class:`~s2rdepth.models.UnsafeCheckpointError`); ``module.`` prefixes are stripped;
    every key and shape must match, otherwise :class:`~s2rdepth.models.CheckpointMismatchError`
    lists the missing, unexpected and mis-shaped keys and names the file.

    Returns the model in eval mode.
    """
    # built without initialisation (meta device, then uninitialised CPU memory): every
    # parameter and buffer is overwritten by the four strict loads below
    with torch.device("meta"):
        model = S2RDepthNet(max_depth=max_depth)
    model.to_empty(device="cpu")
    for component, source in (("encoder", encoder), ("struct_decoder", struct_decoder),
                              ("dsa", dsa), ("depth_net", depth_net)):
        load_official_component(model, component, source)
    return model.eval()


def export_official_s2r(model: S2RDepthNet, out_dir: Union[str, os.PathLike[str], None] = None, *,
                        paths: Optional[Mapping[str, Union[str, os.PathLike[str]]]] = None,
                        data_parallel: bool = True) -> dict[str, Path]:
    """Write ``model`` as the four official files, loadable by code built on the official release.

    Args:
        model: an :class:`S2RDepthNet` in the paper configuration (variants ``ste_dsa_mul`` or
            ``ste_dsa_add``, width 1.0).
        out_dir: directory for the files named in :data:`OFFICIAL_FILENAMES` (created if needed).
        paths: explicit file per component instead (keys ``encoder``, ``struct_decoder``,
            ``dsa``, ``depth_net``); overrides ``out_dir`` for the components it names.
        data_parallel: prefix the decoder, DSA and depth-net keys with ``module.`` as the
            official files are (the official test script wraps those three in ``DataParallel``
            before loading); the encoder never has the prefix.

    Returns component → path written.
    """
    if out_dir is None and not paths:
        raise ValueError("export_official_s2r: give out_dir or paths")
    targets: dict[str, Path] = {}
    for component in OFFICIAL_COMPONENTS:
        if paths and component in paths:
            targets[component] = Path(paths[component])
        elif out_dir is not None:
            targets[component] = Path(out_dir) / OFFICIAL_FILENAMES[component]
        else:
            raise ValueError(f"export_official_s2r: no path for component {component!r}")
    for attr in OFFICIAL_COMPONENTS.values():
        if getattr(model, attr, None) is None:
            raise ValueError(f"export_official_s2r: variant {model.variant!r} has no {attr}")
    states: dict[str, dict[str, torch.Tensor]] = {}
    for component, attr in OFFICIAL_COMPONENTS.items():
        module = getattr(model, attr)
        official = {k: v.detach().cpu() for k, v in package_to_official(component, module).items()}
        check_state_dict(official_key_shapes(component), official, f"{attr} of the model",
                         "only the paper configuration (width=1.0, 4 res blocks, 3 inception "
                         "blocks, 1-channel DP input) has an official layout")
        # one tensor object for the 18 PReLU keys, like the shared module of the original
        if component == "depth_net":
            shared = official["conv1.3.weight"]
            for k in _dp_prelu_keys(len(module.center)):
                official[k] = shared
        prefix = "module." if data_parallel and _DATA_PARALLEL[component] else ""
        states[component] = {prefix + k: v for k, v in official.items()}
    for component, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(states[component], path)
    return targets
