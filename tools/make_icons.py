"""Draw the app icons (PNG, standard library only). Run once; the PNGs are committed.

A teal rounded square with a white pulse line rising into an upward step: exercise that
shows progress. The maskable variant keeps the mark inside the 80% safe zone.
"""

import struct
import zlib
from pathlib import Path

TEAL = (15, 92, 90)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "site" / "icons"

# Pulse line in unit coordinates (0..1), drawn with a round pen.
LINE = [
    (0.14, 0.58),
    (0.34, 0.58),
    (0.42, 0.40),
    (0.50, 0.72),
    (0.58, 0.30),
    (0.66, 0.58),
    (0.86, 0.58),
]


def _dist_to_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    cx, cy = ax + t * dx, ay + t * dy
    return ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5


def draw(size: int, maskable: bool) -> bytes:
    scale = 0.8 if maskable else 1.0
    pen = 0.055 * scale
    radius = 0.0 if maskable else 0.18
    ss = 3  # supersampling per axis
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            cover_bg = cover_line = 0
            for sy in range(ss):
                for sx in range(ss):
                    u = (x + (sx + 0.5) / ss) / size
                    v = (y + (sy + 0.5) / ss) / size
                    # rounded square background
                    qx = max(radius - u, 0, u - (1 - radius))
                    qy = max(radius - v, 0, v - (1 - radius))
                    inside = radius == 0 or (qx * qx + qy * qy) <= radius * radius
                    if inside:
                        cover_bg += 1
                        lu, lv = 0.5 + (u - 0.5) / scale, 0.5 + (v - 0.5) / scale
                        d = min(
                            _dist_to_segment(lu, lv, *LINE[i], *LINE[i + 1])
                            for i in range(len(LINE) - 1)
                        )
                        if d * scale <= pen:
                            cover_line += 1
            n = ss * ss
            a = cover_bg / n
            t = cover_line / max(cover_bg, 1)
            rgb = [round(TEAL[i] * (1 - t) + WHITE[i] * t) for i in range(3)]
            row += bytes([*rgb, round(255 * a)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(draw(192, False))
    (OUT / "icon-512.png").write_bytes(draw(512, False))
    (OUT / "icon-maskable-512.png").write_bytes(draw(512, True))
    print("icons written to", OUT)
