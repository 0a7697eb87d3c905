"""Figures: colour maps and panels in the style of the papers (Pillow only, no matplotlib).

================================  =============================================================
:func:`colormap`, :func:`colorize`  magma / inferno / plasma / viridis / turbo / gray lookup
                                  tables; :func:`depth_to_unit` (inverse or linear depth)
:func:`depth_panel`               one image's panel (input, M_s, M_a, M_s·M_a or disparity and
                                  semantics, depth with a colour bar in metres, ground truth,
                                  error map) and the stand-alone error map
:func:`compose`, :func:`panel_size`  tile layout
:func:`render_figures`            ``s2rdepth visualize``: image files → ``<stem>_panel.png``
================================  =============================================================
"""
from .colormaps import COLORMAPS, colorize, colormap, depth_to_unit, unit_to_depth
from .figures import kitti_velodyne_for_image, load_ground_truth, render_figures
from .panel import BAR_W, MARGIN, TITLE_H, ColorBar, Tile, compose, depth_panel, error_map, panel_size, \
    semantic_colors, tile_shape

__all__ = [
    "BAR_W", "COLORMAPS", "ColorBar", "MARGIN", "TITLE_H", "Tile", "colorize", "colormap", "compose",
    "depth_panel", "depth_to_unit", "error_map", "kitti_velodyne_for_image", "load_ground_truth",
    "panel_size", "render_figures", "semantic_colors", "tile_shape", "unit_to_depth",
]
