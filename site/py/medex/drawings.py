"""Line drawings of the starter library's exercises, drawn for this project (stick figures,
SVG, no outside artwork): the picture a printed home program shows when there is no photo.

Each drawing shows where the movement starts (light grey) and where it ends (black), with an
arrow for the direction, on the equipment the exercise uses (chair, wall, step, counter, mat).
The markup is built here from numbers only, so it is safe to print as it is::

    >>> svg = drawing_svg("sit_to_stand", "Sit-to-stand")
    >>> svg.startswith("<svg") and "Sit-to-stand" in svg
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

Point = tuple[float, float]
Pose = dict[str, Point]

INK = "#1d2326"
START = "#a3adb2"
PROP = "#6f7b81"
ARROW = "#0f6e6b"
FLOOR = 158.0

# Body proportions (a figure about 115 units tall, standing on y = FLOOR).
SHIN, THIGH, TORSO, UPPER_ARM, FOREARM, HEAD_R = 27.0, 27.0, 46.0, 22.0, 21.0, 9.0


def standing(x: float, floor: float = FLOOR, **joints: Point) -> Pose:
    """A person standing side-on at ``x``, arms down; any joint can be moved."""
    pose: Pose = {
        "foot_l": (x, floor),
        "foot_r": (x + 2, floor),
        "knee_l": (x + 1, floor - SHIN),
        "knee_r": (x + 2, floor - SHIN),
        "hip": (x + 1, floor - SHIN - THIGH),
        "neck": (x + 1, floor - SHIN - THIGH - TORSO),
        "head": (x + 2, floor - SHIN - THIGH - TORSO - HEAD_R - 2),
        "elbow_l": (x + 3, floor - SHIN - THIGH - TORSO + UPPER_ARM),
        "hand_l": (x + 6, floor - SHIN - THIGH - TORSO + UPPER_ARM + FOREARM),
        "elbow_r": (x + 1, floor - SHIN - THIGH - TORSO + UPPER_ARM),
        "hand_r": (x + 3, floor - SHIN - THIGH - TORSO + UPPER_ARM + FOREARM),
    }
    pose.update(joints)
    return pose


def _fmt(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


def _line(points: list[Point], color: str, width: float = 4.5) -> str:
    coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
    return (
        f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{_fmt(width)}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )


def figure(pose: Mapping[str, Point], color: str = INK) -> str:
    """A stick figure: head, torso, both arms and both legs."""
    p = pose
    hx, hy = p["head"]
    parts = [
        f'<circle cx="{_fmt(hx)}" cy="{_fmt(hy)}" r="{_fmt(HEAD_R)}" fill="#fff" '
        f'stroke="{color}" stroke-width="4"/>',
        _line([p["neck"], p["hip"]], color),
        _line([p["hip"], p["knee_l"], p["foot_l"]], color),
        _line([p["hip"], p["knee_r"], p["foot_r"]], color),
        _line([p["neck"], p["elbow_l"], p["hand_l"]], color),
        _line([p["neck"], p["elbow_r"], p["hand_r"]], color),
    ]
    return "".join(parts)


def arrow(start: Point, end: Point) -> str:
    """A straight arrow with an open head (drawn, so no marker ids can clash on a page)."""
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    length = max((dx * dx + dy * dy) ** 0.5, 1.0)
    ux, uy = dx / length, dy / length
    size = 8.0
    left = (x2 - size * ux + size * 0.6 * uy, y2 - size * uy - size * 0.6 * ux)
    right = (x2 - size * ux - size * 0.6 * uy, y2 - size * uy + size * 0.6 * ux)
    return _line([start, end], ARROW, 3) + _line([left, end, right], ARROW, 3)


def floor_line() -> str:
    return _line([(8, FLOOR + 3), (192, FLOOR + 3)], PROP, 2.5)


def chair(x: float, facing: int = 1) -> str:
    """A side-on chair: seat from ``x`` forward (``facing`` +1: to the right), back behind."""
    front = x + 38 * facing
    return _line([(x, 70), (x, FLOOR), (x, 112), (front, 112), (front, FLOOR)], PROP, 3.5)


def wall(x: float) -> str:
    hatch = "".join(_line([(x, y), (x + 8, y - 8)], PROP, 1.5) for y in range(30, 160, 16))
    return _line([(x, 20), (x, FLOOR + 3)], PROP, 3.5) + hatch


def counter(x: float) -> str:
    """A kitchen counter (or sturdy table) to hold on to, its top at hand height."""
    return (
        _line([(x, 100), (x + 40, 100)], PROP, 4)
        + _line([(x + 4, 100), (x + 4, FLOOR)], PROP, 3)
        + _line([(x + 36, 100), (x + 36, FLOOR)], PROP, 3)
    )


def _sit(x: float, seat: float = 110, **joints: Point) -> Pose:
    """Sitting side-on on a seat at height ``seat``, hips at ``x``, facing right."""
    pose: Pose = {
        "hip": (x, seat - 2),
        "knee_l": (x + 30, seat - 2),
        "knee_r": (x + 32, seat - 2),
        "foot_l": (x + 32, FLOOR),
        "foot_r": (x + 34, FLOOR),
        "neck": (x + 2, seat - 2 - TORSO),
        "head": (x + 3, seat - 2 - TORSO - HEAD_R - 2),
        "elbow_l": (x + 6, seat - 2 - TORSO + UPPER_ARM),
        "hand_l": (x + 20, seat - 2 - TORSO + UPPER_ARM + 8),
        "elbow_r": (x + 4, seat - 2 - TORSO + UPPER_ARM),
        "hand_r": (x + 18, seat - 2 - TORSO + UPPER_ARM + 10),
    }
    pose.update(joints)
    return pose


def _sit_to_stand() -> str:
    start = _sit(
        58,
        neck=(72, 68),
        head=(78, 58),
        elbow_l=(88, 82),
        hand_l=(104, 88),
        elbow_r=(86, 84),
        hand_r=(102, 90),
    )
    end = standing(100, elbow_l=(106, 68), hand_l=(116, 86), elbow_r=(104, 68), hand_r=(114, 88))
    return chair(40) + figure(start, START) + figure(end) + arrow((90, 60), (120, 34))


def _wall_push_up() -> str:
    base = {"foot_l": (86.0, FLOOR), "foot_r": (90.0, FLOOR)}
    start = {
        **base,
        "knee_l": (98, 132),
        "knee_r": (101, 132),
        "hip": (111, 106),
        "neck": (136, 64),
        "head": (143, 54),
        "elbow_l": (153, 66),
        "hand_l": (170, 66),
        "elbow_r": (152, 68),
        "hand_r": (170, 68),
    }
    end = {
        **base,
        "knee_l": (100, 131),
        "knee_r": (103, 131),
        "hip": (115, 105),
        "neck": (148, 66),
        "head": (156, 57),
        "elbow_l": (150, 86),
        "hand_l": (170, 66),
        "elbow_r": (152, 88),
        "hand_r": (170, 68),
    }
    return (
        wall(172) + floor_line() + figure(start, START) + figure(end) + arrow((122, 44), (148, 44))
    )


def _step_up() -> str:
    step = _line([(104, FLOOR), (104, 134), (158, 134), (158, FLOOR)], PROP, 3.5)
    rail = _line([(168, 134), (168, 66), (150, 66)], PROP, 3)
    start = standing(
        78,
        knee_r=(98, 114),
        foot_r=(112, 134),
        elbow_r=(84, 80),
        hand_r=(92, 98),
    )
    end = standing(128, floor=134, elbow_r=(138, 48), hand_r=(150, 66))
    return (
        floor_line() + step + rail + figure(start, START) + figure(end) + arrow((96, 40), (122, 22))
    )


def _heel_raise() -> str:
    start = standing(84, elbow_l=(96, 84), hand_l=(116, 100), elbow_r=(94, 86), hand_r=(114, 100))
    lifted = standing(
        88,
        floor=FLOOR - 9,
        foot_l=(94, FLOOR),
        foot_r=(96, FLOOR),
        elbow_l=(100, 76),
        hand_l=(116, 100),
        elbow_r=(98, 78),
        hand_r=(114, 100),
    )
    return (
        floor_line()
        + counter(114)
        + figure(start, START)
        + figure(lifted)
        + arrow((64, 70), (64, 42))
    )


def _bridge() -> str:
    mat = _line([(20, FLOOR), (184, FLOOR)], PROP, 6)
    down = {
        "head": (34, 146),
        "neck": (48, 150),
        "hip": (96, 150),
        "knee_l": (122, 122),
        "knee_r": (124, 124),
        "foot_l": (142, 152),
        "foot_r": (144, 152),
        "elbow_l": (70, 152),
        "hand_l": (90, 152),
        "elbow_r": (70, 153),
        "hand_r": (92, 153),
    }
    up = {**down, "hip": (98, 120), "knee_l": (126, 110), "knee_r": (128, 112)}
    return mat + figure(down, START) + figure(up) + arrow((96, 104), (96, 78))


def _band_row() -> str:
    post = _line([(186, 60), (186, FLOOR)], PROP, 4)
    start = _sit(62, elbow_l=(84, 66), hand_l=(106, 66), elbow_r=(84, 68), hand_r=(106, 68))
    end = _sit(62, elbow_l=(48, 78), hand_l=(70, 70), elbow_r=(48, 80), hand_r=(70, 72))
    band = _line([(186, 72), (70, 70)], "#b3261e", 2.5)
    return (
        floor_line()
        + chair(44)
        + post
        + band
        + figure(start, START)
        + figure(end)
        + arrow((140, 50), (110, 50))
    )


def _seated_knee_extension() -> str:
    start = _sit(60)
    end = _sit(60, knee_r=(92, 108), foot_r=(124, 104))
    weight = '<rect x="122" y="98" width="10" height="12" rx="3" fill="#6f7b81"/>'
    return (
        floor_line()
        + chair(42)
        + figure(start, START)
        + figure(end)
        + weight
        + arrow((132, 150), (146, 116))
    )


def _front(x: float, **joints: Point) -> Pose:
    """A person standing facing us at ``x``."""
    pose: Pose = {
        "foot_l": (x - 10, FLOOR),
        "foot_r": (x + 10, FLOOR),
        "knee_l": (x - 8, FLOOR - SHIN),
        "knee_r": (x + 8, FLOOR - SHIN),
        "hip": (x, FLOOR - SHIN - THIGH),
        "neck": (x, FLOOR - SHIN - THIGH - TORSO),
        "head": (x, FLOOR - SHIN - THIGH - TORSO - HEAD_R - 2),
        "elbow_l": (x - 14, FLOOR - SHIN - THIGH - TORSO + UPPER_ARM),
        "hand_l": (x - 18, FLOOR - SHIN - THIGH - TORSO + UPPER_ARM + FOREARM),
        "elbow_r": (x + 14, FLOOR - SHIN - THIGH - TORSO + UPPER_ARM),
        "hand_r": (x + 18, FLOOR - SHIN - THIGH - TORSO + UPPER_ARM + FOREARM),
    }
    pose.update(joints)
    return pose


def _standing_hip_abduction() -> str:
    start = _front(100, elbow_l=(80, 70), hand_l=(62, 100))
    end = _front(
        100,
        elbow_l=(80, 70),
        hand_l=(62, 100),
        knee_r=(120, 128),
        foot_r=(134, 152),
    )
    return (
        floor_line()
        + counter(22)
        + figure(start, START)
        + figure(end)
        + arrow((128, 112), (152, 122))
    )


def _seated_biceps_curl() -> str:
    start = _sit(66, elbow_l=(70, 84), hand_l=(74, 104), elbow_r=(68, 86), hand_r=(72, 106))
    end = _sit(66, elbow_l=(72, 84), hand_l=(88, 66), elbow_r=(70, 86), hand_r=(86, 68))
    bells = (
        '<rect x="66" y="100" width="16" height="8" rx="3" fill="#a3adb2"/>'
        '<rect x="80" y="61" width="16" height="8" rx="3" fill="#6f7b81"/>'
    )
    return (
        floor_line()
        + chair(48)
        + figure(start, START)
        + figure(end)
        + bells
        + arrow((112, 100), (112, 70))
    )


def _marching_in_place() -> str:
    start = standing(96)
    end = standing(
        96,
        knee_r=(124, 80),
        foot_r=(122, 108),
        elbow_l=(106, 80),
        hand_l=(120, 66),
        elbow_r=(88, 82),
        hand_r=(80, 98),
    )
    return (
        floor_line()
        + chair(150, facing=-1)
        + figure(start, START)
        + figure(end)
        + arrow((142, 126), (142, 96))
    )


def _feet(x: float, y: float, gap: float) -> str:
    """Two footprints seen from above, one in front of the other."""
    a = f'<ellipse cx="{_fmt(x)}" cy="{_fmt(y)}" rx="13" ry="6" fill="none" stroke="{INK}" '
    b = f'<ellipse cx="{_fmt(x + 26 + gap)}" cy="{_fmt(y)}" rx="13" ry="6" fill="none" '
    return a + 'stroke-width="3"/>' + b + f'stroke="{INK}" stroke-width="3"/>'


def _tandem_stance() -> str:
    person = standing(
        70,
        foot_l=(60, FLOOR),
        foot_r=(84, FLOOR),
        knee_l=(64, 131),
        knee_r=(80, 131),
        elbow_l=(84, 84),
        hand_l=(100, 96),
    )
    inset = (
        '<rect x="122" y="20" width="70" height="40" rx="6" fill="none" stroke="#a3adb2" '
        'stroke-width="2"/>' + _feet(140, 40, 0)
    )
    return floor_line() + counter(96) + figure(person) + inset


def _single_leg_stance() -> str:
    start = standing(80, elbow_l=(90, 84), hand_l=(108, 96))
    end = standing(
        80,
        elbow_l=(90, 84),
        hand_l=(108, 96),
        knee_r=(86, 132),
        foot_r=(72, 146),
    )
    return (
        floor_line()
        + counter(104)
        + figure(start, START)
        + figure(end)
        + arrow((50, 152), (50, 136))
    )


def _heel_to_toe_walk() -> str:
    rail = _line([(10, 96), (190, 96)], PROP, 3)
    person = standing(
        78,
        foot_l=(66, FLOOR),
        foot_r=(92, FLOOR),
        knee_l=(70, 131),
        knee_r=(88, 131),
        elbow_r=(88, 78),
        hand_r=(96, 96),
    )
    steps = "".join(
        f'<ellipse cx="{x}" cy="{FLOOR + 3}" rx="11" ry="3.5" fill="{PROP}"/>'
        for x in (118, 141, 164)
    )
    return floor_line() + rail + figure(person) + steps + arrow((110, 40), (160, 40))


def _walking(x: float, floor: float = FLOOR) -> Pose:
    return standing(
        x,
        floor=floor,
        foot_l=(x - 16, floor),
        knee_l=(x - 8, floor - SHIN),
        foot_r=(x + 20, floor),
        knee_r=(x + 12, floor - SHIN + 2),
        elbow_l=(x + 10, floor - 78),
        hand_l=(x + 22, floor - 66),
        elbow_r=(x - 6, floor - 80),
        hand_r=(x - 12, floor - 62),
    )


def _walking_intervals() -> str:
    return (
        floor_line()
        + figure(_walking(60), START)
        + figure(_walking(116))
        + arrow((140, 40), (184, 40))
    )


def _treadmill_walk() -> str:
    deck = _line([(30, 150), (160, 150)], PROP, 6)
    console = _line([(160, 150), (170, 70), (148, 62)], PROP, 4)
    return floor_line() + deck + console + figure(_walking(96, floor=146))


def _recumbent(x: float, **joints: Point) -> Pose:
    pose: Pose = {
        "hip": (x, 116),
        "neck": (x - 14, 72),
        "head": (x - 17, 60),
        "knee_l": (x + 30, 100),
        "knee_r": (x + 26, 112),
        "foot_l": (x + 58, 112),
        "foot_r": (x + 54, 128),
        "elbow_l": (x - 2, 94),
        "hand_l": (x + 8, 112),
        "elbow_r": (x - 4, 96),
        "hand_r": (x + 6, 114),
    }
    pose.update(joints)
    return pose


def _recumbent_bike() -> str:
    seat = _line([(56, 64), (66, 118), (104, 118)], PROP, 4) + _line(
        [(84, 118), (84, FLOOR), (160, FLOOR), (150, 118)], PROP, 3.5
    )
    crank = f'<circle cx="150" cy="120" r="14" fill="none" stroke="{PROP}" stroke-width="3"/>'
    return floor_line() + seat + crank + figure(_recumbent(92)) + arrow((170, 96), (170, 132))


def _recumbent_stepper() -> str:
    seat = _line([(56, 64), (66, 118), (104, 118)], PROP, 4) + _line(
        [(84, 118), (84, FLOOR), (160, FLOOR), (160, 100)], PROP, 3.5
    )
    handle = _line([(150, 128), (128, 74)], PROP, 3.5)
    person = _recumbent(
        92, elbow_l=(104, 80), hand_l=(128, 74), elbow_r=(102, 82), hand_r=(126, 76)
    )
    return floor_line() + seat + handle + figure(person) + arrow((176, 90), (176, 130))


def _calf_stretch() -> str:
    person = {
        "foot_l": (130.0, FLOOR),
        "knee_l": (146, 128),
        "foot_r": (70, FLOOR),
        "knee_r": (88, 140),
        "hip": (112, 108),
        "neck": (142, 68),
        "head": (149, 58),
        "elbow_l": (158, 76),
        "hand_l": (172, 64),
        "elbow_r": (157, 78),
        "hand_r": (172, 66),
    }
    return wall(174) + floor_line() + figure(person) + arrow((60, 130), (60, 150))


def _seated_hamstring_stretch() -> str:
    start = _sit(64, knee_r=(96, 112), foot_r=(130, 150))
    end = _sit(
        64,
        knee_r=(96, 112),
        foot_r=(130, 150),
        neck=(90, 70),
        head=(98, 62),
        elbow_l=(104, 88),
        hand_l=(112, 108),
        elbow_r=(102, 90),
        hand_r=(110, 110),
    )
    return floor_line() + chair(46) + figure(start, START) + figure(end) + arrow((70, 40), (96, 52))


def _chest_stretch() -> str:
    start = _front(
        100,
        elbow_l=(82, 62),
        hand_l=(94, 44),
        elbow_r=(118, 62),
        hand_r=(106, 44),
    )
    end = _front(
        100,
        elbow_l=(72, 50),
        hand_l=(94, 42),
        elbow_r=(128, 50),
        hand_r=(106, 42),
    )
    return (
        floor_line()
        + figure(start, START)
        + figure(end)
        + arrow((66, 80), (46, 80))
        + arrow((134, 80), (154, 80))
    )


DRAWINGS = {
    "sit_to_stand": _sit_to_stand,
    "wall_push_up": _wall_push_up,
    "step_up": _step_up,
    "heel_raise": _heel_raise,
    "bridge": _bridge,
    "band_row": _band_row,
    "seated_knee_extension": _seated_knee_extension,
    "standing_hip_abduction": _standing_hip_abduction,
    "seated_biceps_curl": _seated_biceps_curl,
    "marching_in_place": _marching_in_place,
    "tandem_stance": _tandem_stance,
    "single_leg_stance": _single_leg_stance,
    "heel_to_toe_walk": _heel_to_toe_walk,
    "walking_intervals": _walking_intervals,
    "treadmill_walk": _treadmill_walk,
    "recumbent_bike": _recumbent_bike,
    "recumbent_stepper": _recumbent_stepper,
    "calf_stretch": _calf_stretch,
    "seated_hamstring_stretch": _seated_hamstring_stretch,
    "chest_stretch": _chest_stretch,
}


def has_drawing(key: str) -> bool:
    return key in DRAWINGS


def drawing_svg(key: str, title: str) -> str:
    """The drawing as an inline SVG element titled for screen readers; "" if there is none."""
    draw = DRAWINGS.get(key)
    if draw is None:
        return ""
    label = escape(title, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 170" role="img" '
        f'aria-label="{label}" class="drawing"><title>{escape(title)}</title>'
        f'<rect width="200" height="170" fill="#fff"/>{draw()}</svg>'
    )
