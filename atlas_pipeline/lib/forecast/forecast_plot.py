"""A small PNG of a daily series and its forecast with 80 % / 95 % bands, for Dagster metadata.

matplotlib is not among Atlas's dependencies (nothing else needs it, and it is heavy); a chart of a
line and two bands needs only numpy and the PNG format's three chunks (zlib and crc32 from the
standard library). Axis text is left to the surrounding markdown.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

WIDTH, HEIGHT, MARGIN = 420, 140, 6
BACKGROUND = (255, 255, 255)
HISTORY = (40, 40, 40)
POINT = (31, 119, 180)
BAND_80 = (158, 202, 225)
BAND_95 = (222, 235, 247)
TODAY = (200, 200, 200)


def _png(rgb: np.ndarray) -> bytes:
    """Encode an H×W×3 uint8 array as PNG (8-bit RGB, no filtering)."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _line(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, colour: tuple[int, int, int]) -> None:
    for x0, y0, x1, y1 in zip(xs[:-1], ys[:-1], xs[1:], ys[1:], strict=True):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for t in np.linspace(0.0, 1.0, steps + 1):
            x, y = round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)
            image[max(y - 1, 0) : y + 1, x : x + 1] = colour  # 2 px thick


def forecast_png(
    history: np.ndarray, point: np.ndarray, lower_80: np.ndarray, upper_80: np.ndarray, lower_95: np.ndarray,
    upper_95: np.ndarray,
) -> bytes:  # fmt: skip
    """History (oldest first) followed by the forecast point and its bands, as PNG bytes."""
    values = np.concatenate([history, point, upper_95, lower_95]).astype(float)
    low, high = float(min(values.min(), 0.0)), float(values.max())
    span = high - low or 1.0
    days = len(history) + len(point)
    step = (WIDTH - 2 * MARGIN) / max(days - 1, 1)

    def px(index: np.ndarray) -> np.ndarray:
        return MARGIN + index * step

    def py(value: np.ndarray) -> np.ndarray:
        return HEIGHT - MARGIN - (np.asarray(value, dtype=float) - low) / span * (HEIGHT - 2 * MARGIN)

    image = np.full((HEIGHT, WIDTH, 3), BACKGROUND, dtype=np.uint8)
    ahead = np.arange(len(history), days)
    for lower, upper, colour in ((lower_95, upper_95, BAND_95), (lower_80, upper_80, BAND_80)):
        for x, top, bottom in zip(px(ahead), py(upper), py(lower), strict=True):
            image[int(top) : int(bottom) + 1, int(x) : int(x + step) + 1] = colour
    image[MARGIN : HEIGHT - MARGIN, int(px(np.array(len(history) - 0.5)))] = TODAY
    if len(history) > 1:
        _line(image, px(np.arange(len(history))), py(history), HISTORY)
    if len(point) > 1:
        _line(image, px(ahead), py(point), POINT)
    return _png(image)


def markdown_image(png: bytes, alt: str) -> str:
    """Markdown embedding the PNG as a base64 data URI (how Dagster metadata shows images)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
