"""Generated frames and series for detector tests that must run everywhere (no shared data)."""

from __future__ import annotations

import numpy as np


def _rectangles(h: int, w: int, rng: np.random.Generator, count: int, sizes: tuple[int, int],
                margin: int) -> np.ndarray:
    """A grey BGR picture with ``count`` filled rectangles of random colour and size."""
    import cv2

    img = np.full((h, w, 3), 110, np.uint8)
    for _ in range(count):
        x, y = int(rng.integers(0, w - margin)), int(rng.integers(0, h - margin))
        color = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(*sizes)), y + int(rng.integers(*sizes))), color, -1)
    return img


def textured_scene(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A static BGR scene with edges and texture (rectangles and noise), like a real view."""
    rng = np.random.default_rng(seed)
    img = _rectangles(h, w, rng, 25, (10, 60), margin=40)
    noise = rng.integers(-6, 7, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def busy_scene(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A view dense with small edges (foliage, a crowded walkway): about half its edges still
    fall on an edge after any move, so "edges no longer in place" alone cannot tell a move."""
    return _rectangles(h, w, np.random.default_rng(seed), 400, (3, 14), margin=10)


def turned(scene: np.ndarray, shift: float = 0.15, degrees: float = 4.0) -> np.ndarray:
    """The view after the camera was knocked: moved by ``shift`` of its width and rotated."""
    import cv2

    h, w = scene.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[0, 2] += shift * w
    return np.asarray(cv2.warpAffine(scene, m, (w, h), borderMode=cv2.BORDER_REFLECT))


def with_box(scene: np.ndarray, x: int, y: int, w: int, h: int, value: int = 20) -> np.ndarray:
    out = scene.copy()
    out[y : y + h, x : x + w] = value
    return out


def noisy(scene: np.ndarray, rng: np.random.Generator, amp: int = 3) -> np.ndarray:
    return np.clip(scene.astype(int) + rng.integers(-amp, amp + 1, scene.shape), 0, 255).astype(np.uint8)


def falling_person(seed: int = 3) -> tuple[list[np.ndarray], int]:
    """Frames (10 fps) of a tall silhouette that walks, then topples within half a second and
    lies still; and the index of the first falling frame."""
    rng = np.random.default_rng(seed)
    scene = textured_scene()
    frames = [noisy(scene, rng) for _ in range(20)]
    frames += [noisy(with_box(scene, 60 + 4 * i, 60, 24, 110), rng) for i in range(20)]  # walking
    fall_start = len(frames)
    frames += [noisy(with_box(scene, 140, 60 + 25 * i, 24 + 20 * i, 110 - 20 * i), rng) for i in range(5)]
    frames += [noisy(with_box(scene, 140, 150, 110, 24), rng) for _ in range(10)]  # lying
    return frames, fall_start
