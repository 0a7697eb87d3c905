"""Procedural 3-D street scenes: primitives, camera pose, and the random scene sampler.

World frame (metres): x right, y up, z forward along the street; the road surface is the plane
``y = 0`` and the street centre line is ``x = 0``. A scene holds

* the ground plane (road where ``|x| <= road_half_width`` or inside a cross street, terrain
  elsewhere), a square of half-size :attr:`Scene.ground_extent` around the origin;
* a list of primitives (:class:`Primitives`): axis-aligned boxes (sidewalks with their curbs,
  buildings, car bodies, cabins and wheels, walls, hedges, guard rails, lamp arms, sign plates),
  vertical cylinders (poles, tree trunks) and axis-aligned ellipsoids (tree crowns, bushes,
  round signs);
* the pose of camera 2 (``cam_rotation`` maps camera coordinates to world, ``cam_position`` is
  its centre) — the Velodyne follows rigidly through the calibration
  (:mod:`s2rdepth.data.synth.camera`).

:func:`sample_scene` draws everything from a NumPy generator seeded by ``(seed, index)`` only, so
every domain (virtual, real, painting) and every image size renders the *same* geometry for the
same ``(seed, index)``; appearance uses separate random streams.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import labels as L

__all__ = ["BOX", "CYLINDER", "ELLIPSOID", "Primitives", "PrimitiveBuilder", "Scene", "camera_rotation",
           "sample_scene", "scene_rng", "SCENE_KINDS"]

BOX, CYLINDER, ELLIPSOID = 0, 1, 2
SCENE_KINDS: tuple[str, ...] = ("urban", "residential", "rural")

_STREAM_GEOMETRY = 0x6E0


def scene_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of one ``(seed, index)`` frame and one purpose (``stream``)."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be non-negative, got seed={seed}, index={index}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)]))


@dataclass
class Primitives:
    """Structure-of-arrays of ``N`` primitives (float64 metres in the world frame).

    Attributes:
        kind: int8 (N,) :data:`BOX`, :data:`CYLINDER` (vertical axis) or :data:`ELLIPSOID`.
        params: float64 (N, 6): box ``(x0, y0, z0, x1, y1, z1)``; cylinder ``(cx, cz, r, y0, y1, 0)``;
            ellipsoid ``(cx, cy, cz, rx, ry, rz)``.
        material: int16 (N,) material id (:mod:`s2rdepth.data.synth.labels`).
        instance: int16 (N,) vehicle instance index (``-1`` for non-vehicles); the parts of one car
            share it.
        van: bool (N,) vehicle instance is a van (vKITTI ``Van:<k>`` instead of ``Car:<k>``).
        tone: float64 (N,) a uniform [0, 1) attribute per object (appearance variation: colour
            choice, window grid, ...); the parts of one object share it.
    """

    kind: np.ndarray
    params: np.ndarray
    material: np.ndarray
    instance: np.ndarray
    van: np.ndarray
    tone: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def aabb(self) -> np.ndarray:
        """float64 (N, 6) axis-aligned bounds ``(x0, y0, z0, x1, y1, z1)`` of every primitive."""
        out = np.empty((len(self), 6))
        p = self.params
        b = self.kind == BOX
        out[b] = p[b]
        c = self.kind == CYLINDER
        out[c] = np.stack([p[c, 0] - p[c, 2], p[c, 3], p[c, 1] - p[c, 2],
                           p[c, 0] + p[c, 2], p[c, 4], p[c, 1] + p[c, 2]], axis=1)
        e = self.kind == ELLIPSOID
        out[e] = np.concatenate([p[e, :3] - p[e, 3:], p[e, :3] + p[e, 3:]], axis=1)
        return out


class PrimitiveBuilder:
    """Accumulates primitives, then :meth:`build` returns :class:`Primitives`."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, tuple[float, ...], int, int, bool, float]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def box(self, lo, hi, material: int, tone: float = 0.0, instance: int = -1, van: bool = False) -> None:
        """Axis-aligned box from corner ``lo`` to ``hi`` (metres); empty boxes are ignored."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        if np.any(hi - lo <= 1e-6):
            return
        self._rows.append((BOX, (*lo, *hi), material, instance, van, tone))

    def cylinder(self, cx: float, cz: float, r: float, y0: float, y1: float, material: int, tone: float = 0.0) -> None:
        """Vertical cylinder of radius ``r`` around ``(cx, cz)`` from height ``y0`` to ``y1`` (metres)."""
        self._rows.append((CYLINDER, (cx, cz, r, y0, y1, 0.0), material, -1, False, tone))

    def ellipsoid(self, centre, radii, material: int, tone: float = 0.0) -> None:
        """Axis-aligned ellipsoid (metres)."""
        self._rows.append((ELLIPSOID, (*centre, *radii), material, -1, False, tone))

    def build(self) -> Primitives:
        n = len(self._rows)
        return Primitives(
            kind=np.array([r[0] for r in self._rows], dtype=np.int8).reshape(n),
            params=np.array([r[1] for r in self._rows], dtype=np.float64).reshape(n, 6),
            material=np.array([r[2] for r in self._rows], dtype=np.int16).reshape(n),
            instance=np.array([r[3] for r in self._rows], dtype=np.int16).reshape(n),
            van=np.array([r[4] for r in self._rows], dtype=bool).reshape(n),
            tone=np.array([r[5] for r in self._rows], dtype=np.float64).reshape(n),
        )


def camera_rotation(pitch: float, yaw: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Camera→world rotation (3x3) for angles in radians.

    ``pitch > 0`` looks down, ``yaw > 0`` looks right (+x), ``roll > 0`` turns the image clockwise.
    With all angles 0 the camera looks along +z with image rows going down (-y).
    """
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cr, sr = np.cos(roll), np.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    flip = np.diag([1.0, -1.0, 1.0])
    return r_yaw @ r_pitch @ r_roll @ flip


@dataclass
class Scene:
    """One street scene (see the module docstring). Lengths in metres, angles in radians.

    Attributes:
        prims: the primitives.
        cam_position: float64 (3,) camera-2 centre in the world.
        cam_rotation: float64 (3, 3) camera-2 → world rotation.
        road_half_width: the road is ``|x| <= road_half_width`` (between the curbs).
        lane_width, n_lanes: lanes of width ``lane_width`` centred on ``x = 0`` (the remaining
            width on each side is parking or shoulder).
        cross_streets: float64 (K, 2) ``[z0, z1)`` bands where the ground is road at every ``x``.
        ground_extent: the ground plane covers ``|x|, |z| <= ground_extent``.
        kind: ``"urban"``, ``"residential"``, ``"rural"`` or ``"custom"``.
        seed, index: what :func:`sample_scene` was called with (``-1`` for hand-made scenes).
    """

    prims: Primitives
    cam_position: np.ndarray
    cam_rotation: np.ndarray
    road_half_width: float = 5.0
    lane_width: float = 3.3
    n_lanes: int = 2
    cross_streets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    ground_extent: float = 300.0
    kind: str = "custom"
    seed: int = -1
    index: int = -1

    @classmethod
    def flat_road(cls, camera_height: float = 1.65, pitch: float = 0.0, **kwargs) -> "Scene":
        """An empty scene: only the ground plane, camera at ``(0, camera_height, 0)`` (tests)."""
        return cls(prims=PrimitiveBuilder().build(), cam_position=np.array([0.0, camera_height, 0.0]),
                   cam_rotation=camera_rotation(pitch), **kwargs)

    def ground_material(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Material of the ground at world ``(x, z)``: :data:`~labels.ROAD` or :data:`~labels.TERRAIN`."""
        road = np.abs(x) <= self.road_half_width
        for z0, z1 in self.cross_streets:
            road |= (z >= z0) & (z < z1)
        return np.where(road, L.ROAD, L.TERRAIN).astype(np.int16)


# ----------------------------------------------------------------------------------------- sampler
def _segments(z0: float, z1: float, holes: np.ndarray) -> list[tuple[float, float]]:
    """``[z0, z1)`` minus the ``holes`` intervals, as a list of intervals."""
    out = [(z0, z1)]
    for h0, h1 in holes:
        nxt = []
        for a, b in out:
            if h1 <= a or h0 >= b:
                nxt.append((a, b))
                continue
            if h0 > a:
                nxt.append((a, h0))
            if h1 < b:
                nxt.append((h1, b))
        out = nxt
    return [(a, b) for a, b in out if b - a > 0.5]


def _free(z0: float, z1: float, holes: np.ndarray, margin: float = 0.0) -> bool:
    return all(z1 + margin <= h0 or z0 - margin >= h1 for h0, h1 in holes)


def _add_vehicle(b: PrimitiveBuilder, rng: np.random.Generator, xc: float, zc: float, instance: int,
                 van: bool, truck: bool) -> float:
    """Add a car, van or truck centred at ``(xc, zc)`` along +z; returns its length (metres)."""
    tone = float(rng.random())
    if truck:
        length, width = rng.uniform(7.0, 10.0), rng.uniform(2.4, 2.55)
        height = rng.uniform(3.0, 3.8)
        cab = rng.uniform(1.9, 2.3)
        z0 = zc - length / 2
        front = rng.random() < 0.5  # cab towards +z or -z
        cab_lo, cab_hi = (z0 + length - cab, z0 + length) if front else (z0, z0 + cab)
        box_lo, box_hi = (z0, z0 + length - cab - 0.2) if front else (z0 + cab + 0.2, z0 + length)
        b.box((xc - width / 2, 0.55, box_lo), (xc + width / 2, height, box_hi), L.TRUCK, tone)
        b.box((xc - width / 2 + 0.05, 0.55, cab_lo), (xc + width / 2 - 0.05, height * 0.85, cab_hi), L.TRUCK, tone)
        b.box((xc - width / 2 + 0.3, 0.3, z0 + 0.5), (xc + width / 2 - 0.3, 0.6, z0 + length - 0.5), L.TRUCK, tone)
        for zw in (z0 + 1.0, z0 + length - 1.3):
            b.box((xc - width / 2 + 0.05, 0.0, zw), (xc + width / 2 - 0.05, 1.0, zw + 0.9), L.WHEEL, tone)
        return length
    if van:
        length, width = rng.uniform(4.6, 5.4), rng.uniform(1.9, 2.05)
        body_top, top = rng.uniform(0.95, 1.1), rng.uniform(1.9, 2.2)
        glass_z = (0.12, 0.72)
    else:
        length, width = rng.uniform(3.8, 4.8), rng.uniform(1.65, 1.85)
        body_top, top = rng.uniform(0.85, 1.0), rng.uniform(1.38, 1.55)
        glass_z = (rng.uniform(0.12, 0.2), rng.uniform(0.62, 0.7))
    z0 = zc - length / 2
    clear = 0.28
    b.box((xc - width / 2, clear, z0), (xc + width / 2, body_top, z0 + length), L.CAR_BODY, tone, instance, van)
    b.box((xc - width / 2 + 0.08, body_top, z0 + glass_z[0] * length),
          (xc + width / 2 - 0.08, top, z0 + glass_z[1] * length), L.CAR_GLASS, tone, instance, van)
    wl = 0.64
    for zw in (z0 + 0.45, z0 + length - 0.45 - wl):
        for x0 in (xc - width / 2 + 0.02, xc + width / 2 - 0.24):
            b.box((x0, 0.0, zw), (x0 + 0.22, 0.62, zw + wl), L.WHEEL, tone, instance, van)
    return length


def _add_tree(b: PrimitiveBuilder, rng: np.random.Generator, x: float, z: float, scale: float = 1.0) -> None:
    """Tree at ``(x, z)``: cylinder trunk plus ellipsoid crown (20 % narrow conifer-like crowns)."""
    tone = float(rng.random())
    trunk_h = rng.uniform(1.8, 3.5) * scale
    r_trunk = rng.uniform(0.12, 0.28) * scale
    if rng.random() < 0.2:  # conifer-like: narrow and tall
        rx = rng.uniform(1.0, 1.8) * scale
        ry = rng.uniform(3.0, 5.0) * scale
    else:
        rx = rng.uniform(1.4, 3.2) * scale
        ry = rng.uniform(1.5, 3.5) * scale
    rz = rx * rng.uniform(0.85, 1.15)
    cy = trunk_h + 0.75 * ry
    b.cylinder(x, z, r_trunk, 0.0, cy, L.TRUNK, tone)
    b.ellipsoid((x, cy, z), (rx, ry, rz), L.CROWN, tone)


def _add_lamp(b: PrimitiveBuilder, rng: np.random.Generator, x: float, z: float, side: int) -> None:
    """Street lamp at ``(x, z)`` on side ``side`` (-1 left, +1 right), arm reaching over the road."""
    tone = float(rng.random())
    h = rng.uniform(6.0, 9.0)
    b.cylinder(x, z, rng.uniform(0.07, 0.12), 0.0, h, L.POLE, tone)
    if rng.random() < 0.75:  # arm over the road with a lamp head
        arm = rng.uniform(1.0, 2.6)
        x1 = x - side * arm
        b.box((min(x, x1), h - 0.12, z - 0.06), (max(x, x1), h, z + 0.06), L.POLE, tone)
        b.box((x1 - 0.3, h - 0.25, z - 0.15), (x1 + 0.3, h - 0.05, z + 0.15), L.POLE, tone)


def _add_sign(b: PrimitiveBuilder, rng: np.random.Generator, x: float, z: float) -> None:
    """Traffic sign facing the camera (-z): thin post and a square plate or a round (flat ellipsoid) disc."""
    tone = float(rng.random())
    h = rng.uniform(2.0, 2.8)
    b.cylinder(x, z, 0.04, 0.0, h, L.POLE, tone)
    size = rng.uniform(0.5, 0.8)
    if rng.random() < 0.5:
        b.ellipsoid((x, h + size / 2, z - 0.06), (size / 2, size / 2, 0.02), L.SIGN, tone)
    else:
        b.box((x - size / 2, h, z - 0.08), (x + size / 2, h + size, z - 0.04), L.SIGN, tone)


def sample_scene(seed: int, index: int) -> Scene:
    """Draw scene ``index`` of the stream ``seed`` (both non-negative integers).

    The distribution: 40 % urban streets (continuous facades 8-24 m high, 0-1.5 m setbacks, wide
    sidewalks, parked cars, street lamps), 35 % residential (houses 4-8 m with stepped roofs,
    front yards of terrain, hedges, trees), 25 % rural (trees, few buildings far back, guard
    rails). 2-4 lanes of 3.0-3.6 m, optional parking lanes, an optional cross street, cars and vans
    in the lanes (and 7 % trucks), poles and signs. The camera drives in a right-hand lane at
    1.65 ± 0.05 m with pitch N(0, 0.7°), roll N(0, 0.4°), yaw N(0, 1.5°) (clipped).
    """
    rng = scene_rng(seed, index, _STREAM_GEOMETRY)
    b = PrimitiveBuilder()
    kind = str(rng.choice(SCENE_KINDS, p=[0.4, 0.35, 0.25]))
    urban, resid, rural = kind == "urban", kind == "residential", kind == "rural"

    n_lanes = int(rng.choice([2, 2, 3, 4])) if not rural else 2
    lane_w = float(rng.uniform(3.0, 3.6))
    parking = [bool(rng.random() < (0.75 if urban else 0.55 if resid else 0.0)) for _ in range(2)]
    margin = [2.3 if p else float(rng.uniform(0.2, 0.6)) for p in parking]
    road_half = n_lanes * lane_w / 2 + max(margin)
    z_start, z_end = -40.0, float(rng.uniform(120.0, 220.0))

    holes = np.zeros((0, 2))
    if rng.random() < 0.35:
        zc = rng.uniform(15.0, 80.0)
        holes = np.array([[zc, zc + rng.uniform(8.0, 14.0)]])

    # camera pose
    lane_idx = int(rng.integers(n_lanes // 2, n_lanes))
    cam_x = -n_lanes * lane_w / 2 + (lane_idx + 0.5) * lane_w + rng.uniform(-0.3, 0.3)
    cam_h = 1.65 + rng.uniform(-0.05, 0.05)
    deg = np.pi / 180
    pitch = float(np.clip(rng.normal(0, 0.7), -2, 2)) * deg
    roll = float(np.clip(rng.normal(0, 0.4), -1.2, 1.2)) * deg
    yaw = float(np.clip(rng.normal(0, 1.5), -5, 5)) * deg

    for side in (-1, 1):  # -1 = left, +1 = right
        sw_present = rng.random() < (1.0 if urban else 0.9 if resid else 0.15)
        sw_w = float(rng.uniform(2.0, 4.5) if urban else rng.uniform(1.2, 2.5)) if sw_present else 0.0
        curb = float(rng.uniform(0.10, 0.18))
        verge = 0.0 if urban else float(rng.uniform(0.5, 5.0) if resid else rng.uniform(1.5, 6.0))
        x_line = road_half + sw_w + verge  # building / property line (distance from the centre)
        sw_depth = sw_w + (3.0 if urban else 0.0)  # urban sidewalks run under the facades
        if sw_present:
            for a, c in _segments(z_start, z_end + 40.0, holes):
                x0, x1 = road_half, road_half + sw_depth
                b.box((min(side * x0, side * x1), 0.0, a), (max(side * x0, side * x1), curb, c), L.SIDEWALK,
                      float(rng.random()))

        # buildings
        z = z_start + rng.uniform(-5.0, 5.0)
        while z < z_end:
            tone = float(rng.random())
            if urban:
                length, gap = rng.uniform(8, 30), (rng.uniform(1, 6) if rng.random() < 0.25 else 0.0)
                setback, height, depth = rng.uniform(0, 1.5), rng.uniform(8, 24), rng.uniform(10, 20)
                present = True
            elif resid:
                length, gap = rng.uniform(7, 14), rng.uniform(3, 12)
                setback, height, depth = rng.uniform(2, 8), rng.uniform(4, 8), rng.uniform(8, 12)
                present = rng.random() < 0.85
            else:
                length, gap = rng.uniform(8, 20), rng.uniform(15, 60)
                setback, height, depth = rng.uniform(8, 35), rng.uniform(4, 9), rng.uniform(8, 15)
                present = rng.random() < 0.35
            z0, z1 = z, z + length
            if present and _free(z0, z1, holes, 1.0):
                xa = x_line + setback
                xb = xa + depth
                b.box((min(side * xa, side * xb), 0.0, z0), (max(side * xa, side * xb), height, z1), L.BUILDING, tone)
                if (urban and rng.random() < 0.3) or (not urban and rng.random() < 0.6):
                    inset = rng.uniform(0.8, 2.5) if urban else rng.uniform(0.6, 1.6)
                    extra = rng.uniform(2.5, 6.0) if urban else rng.uniform(1.2, 2.5)
                    ia, ib = xa + inset, xb - inset
                    if ib - ia > 1.0 and length - 2 * inset > 1.0:
                        b.box((min(side * ia, side * ib), height, z0 + inset),
                              (max(side * ia, side * ib), height + extra, z1 - inset), L.BUILDING, tone)
                if resid and rng.random() < 0.45:  # hedge or garden wall along the property line
                    hx = x_line + rng.uniform(0.2, 0.8)
                    th = rng.uniform(0.5, 1.0)
                    mat = L.HEDGE if rng.random() < 0.7 else L.WALL
                    hh = rng.uniform(0.8, 1.8) if mat == L.HEDGE else rng.uniform(0.5, 1.2)
                    b.box((min(side * hx, side * (hx + th)), 0.0, z0 - gap * 0.3),
                          (max(side * hx, side * (hx + th)), hh, z1 + gap * 0.3), mat, float(rng.random()))
            if (resid or rural) and gap > 4 and rng.random() < 0.7 and _free(z1, z1 + gap, holes):
                tx = x_line + rng.uniform(1.0, max(1.5, setback + 2))
                _add_tree(b, rng, side * tx, z1 + gap / 2, 1.2 if rural else 1.0)
            z = z1 + gap

        # guard rail (rural)
        if rural and rng.random() < 0.45:
            gx = road_half + 0.4
            for a, c in _segments(rng.uniform(-40, 0), rng.uniform(40, 150), holes):
                b.box((min(side * gx, side * (gx + 0.12)), 0.45, a), (max(side * gx, side * (gx + 0.12)), 0.78, c),
                      L.GUARDRAIL, float(rng.random()))

        # trees along the street
        p_tree = 0.4 if urban else 0.6 if resid else 0.95
        if rng.random() < p_tree:
            spacing = rng.uniform(8, 16) if not rural else rng.uniform(5, 14)
            z = z_start + rng.uniform(0, spacing)
            if urban:
                tx = road_half + min(1.2, sw_w * 0.6)
            elif resid:
                tx = road_half + sw_w + verge * 0.5 if verge > 1.5 else x_line + 1.5
            else:
                tx = road_half + rng.uniform(2.0, 5.0)
            while z < z_end * 0.8:
                if _free(z - 3, z + 3, holes):
                    _add_tree(b, rng, side * (tx + rng.uniform(-0.3, 0.3)), z, 0.9 if urban else 1.0)
                z += spacing * rng.uniform(0.7, 1.3)
        if rural:  # tree line / forest edge further back
            fx = road_half + rng.uniform(10, 30)
            z = z_start
            while z < z_end + 30:
                r = rng.uniform(3, 7)
                if _free(z - r, z + r, holes):
                    b.ellipsoid((side * (fx + rng.uniform(0, 8)), r * rng.uniform(0.8, 1.4), z),
                                (r, r * rng.uniform(1.0, 1.8), r), L.CROWN, float(rng.random()))
                z += r * rng.uniform(1.2, 2.2)
            for _ in range(int(rng.integers(0, 6))):  # bushes
                bx, bz = road_half + rng.uniform(1.5, 8), rng.uniform(-10, 90)
                r = rng.uniform(0.5, 1.5)
                b.ellipsoid((side * bx, r * 0.6, bz), (r, r * 0.8, r), L.HEDGE, float(rng.random()))

        # street lamps / utility poles
        if rng.random() < (0.8 if urban else 0.6):
            spacing = rng.uniform(18, 35) if not rural else rng.uniform(35, 50)
            z = z_start + rng.uniform(0, spacing)
            lx = road_half + (0.5 if sw_present else rng.uniform(1.0, 2.5))
            while z < z_end * 0.9:
                if _free(z - 1, z + 1, holes):
                    _add_lamp(b, rng, side * lx, z, side)
                z += spacing
        for _ in range(int(rng.integers(0, 3))):  # signs
            sz = rng.uniform(5, 70)
            if _free(sz - 1, sz + 1, holes):
                _add_sign(b, rng, side * (road_half + rng.uniform(0.3, 1.0)), sz)

    # vehicles
    instance = 0
    for side, park in zip((-1, 1), parking):  # parked along the curbs
        if not park:
            continue
        z = rng.uniform(-20, 6)
        xc = side * (road_half - 1.15)
        while z < rng.uniform(50, 110):
            van = rng.random() < 0.15
            if rng.random() < 0.65 and _free(z, z + 5.5, holes, 1.0):
                length = _add_vehicle(b, rng, xc + rng.uniform(-0.15, 0.15), z + 2.7, instance, van, False)
                instance += 1
                z += length
            else:
                z += rng.uniform(2.0, 6.0)
            z += rng.uniform(0.6, 3.0)
    for lane in range(n_lanes):  # traffic in the lanes
        xl = -n_lanes * lane_w / 2 + (lane + 0.5) * lane_w
        n = int(rng.poisson(0.8 if not rural else 0.5))
        taken: list[tuple[float, float]] = []
        for _ in range(n):
            zc = rng.uniform(9.0 if lane == lane_idx else -25.0, 90.0)
            if lane == lane_idx and zc < 9:
                continue
            if any(abs(zc - t) < 9 + s for t, s in taken):
                continue
            truck = rng.random() < 0.07
            van = (not truck) and rng.random() < 0.15
            length = _add_vehicle(b, rng, xl + rng.uniform(-0.3, 0.3), zc, instance, van, truck)
            if not truck:
                instance += 1
            taken.append((zc, length / 2))

    # the end of the street
    if (urban and rng.random() < 0.5) or (resid and rng.random() < 0.2):
        zf = z_end + rng.uniform(0, 40)
        b.box((-80.0, 0.0, zf), (80.0, rng.uniform(10, 30), zf + 20), L.BUILDING, float(rng.random()))
    elif rural and rng.random() < 0.6:
        zf = z_end + rng.uniform(20, 80)
        x = -90.0
        while x < 90:
            r = rng.uniform(6, 14)
            b.ellipsoid((x, r * 0.7, zf + rng.uniform(0, 20)), (r, r * rng.uniform(0.8, 1.5), r), L.CROWN,
                        float(rng.random()))
            x += r * 1.3

    return Scene(
        prims=b.build(),
        cam_position=np.array([cam_x, cam_h, 0.0]),
        cam_rotation=camera_rotation(pitch, yaw, roll),
        road_half_width=float(road_half),
        lane_width=lane_w,
        n_lanes=n_lanes,
        cross_streets=holes,
        ground_extent=300.0,
        kind=kind,
        seed=int(seed),
        index=int(index),
    )
