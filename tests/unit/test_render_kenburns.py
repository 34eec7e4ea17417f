"""Ken Burns: the rendered motion follows the intended smooth path to a twentieth of a pixel, motions
vary per segment and per job, and the picture is never stretched nor shows an edge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceless.media.assemble import ClipRenderSpec, render_clip
from faceless.media.inspect import decode_frames
from faceless.media.kenburns import KenBurnsSource, Motion, eased, motion_for, source_point, window_at
from tests.unit.media_inputs import silent_wav

W, H, FPS = 270, 480, 30
SEED = "kenburns-test"
SIGMA_OUT = 2.4  # dot size in output pixels at zoom 1


def dot_pattern(path: Path, width: int, height: int, spacing: float) -> list[tuple[float, float]]:
    """Black picture with a grid of white Gaussian dots at non-integer positions; returns their centres
    (pixel index coordinates: the centre of pixel i is i)."""
    cover = max(W / width, H / height)
    sigma = SIGMA_OUT / cover
    centres = [
        (x + 0.37 * (row % 3), y + 0.21 * (col % 4))
        for row, y in enumerate(np.arange(spacing / 2, height - spacing / 3, spacing))
        for col, x in enumerate(np.arange(spacing / 2, width - spacing / 3, spacing))
    ]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    image = np.zeros((height, width))
    for x, y in centres:
        near = (np.abs(xs - x) < 5 * sigma) & (np.abs(ys - y) < 5 * sigma)
        image[near] += np.exp(-((xs[near] - x) ** 2 + (ys[near] - y) ** 2) / (2 * sigma**2))
    grey = np.clip(image * 255, 0, 255).round().astype(np.uint8)
    Image.fromarray(np.repeat(grey[..., None], 3, axis=2)).save(path)
    return centres


def centroid(frame: np.ndarray, x: float, y: float, radius: int) -> tuple[float, float]:
    x0, y0 = round(x) - radius, round(y) - radius
    patch = frame[y0 : y0 + 2 * radius + 1, x0 : x0 + 2 * radius + 1].astype(np.float64) - 16.0
    patch = np.clip(patch - 4.0, 0, None)  # black is 16 in limited range; ignore coding noise
    ys, xs = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]]
    total = patch.sum()
    return x0 + (patch * xs).sum() / total, y0 + (patch * ys).sum() / total


def fitted_path_error(measured: np.ndarray, source: np.ndarray, intended: np.ndarray) -> np.ndarray:
    """Fit the frame's motion (one scale, two offsets: what a Ken Burns window is) to the measured dot
    positions by least squares; return the fitted minus the intended positions of those dots."""
    n = len(source)
    a = np.zeros((2 * n, 3))
    a[:n, 0], a[:n, 1] = source[:, 0], 1.0
    a[n:, 0], a[n:, 2] = source[:, 1], 1.0
    b = np.concatenate([measured[:, 0], measured[:, 1]])
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    fitted = (a @ solution).reshape(2, n).T
    return fitted - intended


@pytest.mark.parametrize(
    ("index", "source_size", "spacing"),
    [
        (0, (405, 721), 60.0),  # larger than the frame (reduced once before warping), odd sizes
        (1, (257, 455), 40.0),  # smaller than the frame (enlarged), odd width
    ],
)
def test_rendered_motion_follows_the_intended_path_within_a_twentieth_of_a_pixel(tmp_path, index, source_size, spacing):
    # GIVEN a picture of Gaussian dots at known sub-pixel positions, rendered as a 40-frame clip
    picture = tmp_path / "dots.png"
    centres = dot_pattern(picture, *source_size, spacing)
    voice = silent_wav(tmp_path / "voice.wav", 40 / FPS)
    clip = render_clip(
        ClipRenderSpec(index=index, image_path=picture, voice_path=voice, seed=SEED, width=W, height=H, fps=FPS,
                       target=tmp_path / "clip.mp4")
    )  # fmt: skip
    encoded = decode_frames(clip.clip_path, W, H, gray=True)
    path = motion_for(index, SEED)
    source = KenBurnsSource.from_file(picture, W, H, max(path.start.zoom, path.end.zoom))
    assert len(encoded) == clip.frames == 40
    # WHEN each dot's centroid is measured in every frame, as warped and as decoded from the H.264 clip
    radius = 7
    per_dot = {"warped": [], "encoded": []}
    path_errors = []
    for number in range(clip.frames):
        window = window_at(path, number, clip.frames)
        warped = np.zeros(W * H * 3 // 2, np.uint8)
        source.warp_into(window, warped)
        frames = {"warped": warped[: W * H].reshape(H, W), "encoded": encoded[number]}
        inside, intended = [], []
        for x, y in centres:
            ex, ey = source_point(window, *source_size, W, H, x, y)
            if radius + 2 <= ex <= W - radius - 3 and radius + 2 <= ey <= H - radius - 3:
                inside.append((x, y))
                intended.append((ex, ey))
        intended_array = np.array(intended)
        for kind, frame in frames.items():
            measured = np.array([centroid(frame, ex, ey, radius) for ex, ey in intended])
            per_dot[kind].extend(measured - intended_array)
            if kind == "encoded":
                path_errors.extend(fitted_path_error(measured, np.array(inside), intended_array))

    def rms(values: list) -> float:
        return float(np.sqrt(np.mean(np.sum(np.square(values), axis=1))))

    # THEN the encoded video's motion (fitted per frame over all its dots) is the intended path: <= 0.05 px RMS
    assert len(path_errors) > 40 * 20
    print(f"path error {rms(path_errors):.4f} px RMS; per dot: warped {rms(per_dot['warped']):.4f}, encoded {rms(per_dot['encoded']):.4f}")
    assert rms(path_errors) <= 0.05, f"path error {rms(path_errors):.4f} px RMS"
    # AND the warp itself puts every dot where it belongs to a fiftieth of a pixel (before coding noise)
    assert rms(per_dot["warped"]) <= 0.02
    assert rms(per_dot["encoded"]) <= 0.12  # each dot, through x264 at CRF 21
    # AND the motion is real (the dots travel several pixels), so the check means something
    first = source_point(window_at(path, 0, 40), *source_size, W, H, *centres[len(centres) // 2])
    last = source_point(window_at(path, 39, 40), *source_size, W, H, *centres[len(centres) // 2])
    assert np.hypot(last[0] - first[0], last[1] - first[1]) > 4


def test_motions_vary_alternate_and_are_deterministic_per_job():
    # GIVEN the motions of twelve segments for two jobs
    one = [motion_for(i, "job-a") for i in range(12)]
    other = [motion_for(i, "job-b") for i in range(12)]
    # THEN no motion repeats back to back, zooms and pans alternate, several kinds are used
    kinds = [m.motion for m in one]
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
    zooms = {Motion.zoom_in, Motion.zoom_out}
    assert all((a in zooms) != (b in zooms) for a, b in zip(kinds, kinds[1:], strict=False))
    assert len(set(kinds)) >= 4
    # AND the same job always gets the same motions; another job gets others
    assert [motion_for(i, "job-a") for i in range(12)] == one
    assert [m.model_dump() for m in one] != [m.model_dump() for m in other]


def test_easing_starts_and_ends_gently_but_never_stops():
    steps = np.diff([eased(t / 99, 0.6) for t in range(100)])
    assert eased(0, 0.6) == 0 and eased(1, 0.6) == pytest.approx(1)
    assert steps.min() > 0  # always moving
    assert steps[0] < steps[50] and steps[-1] < steps[50]  # slower at the ends than in the middle


def test_every_window_stays_inside_the_picture_and_keeps_its_aspect():
    for seed in ("a", "b", "c"):
        for index in range(8):
            path = motion_for(index, seed)
            for frame in (0, 37, 74):
                window = window_at(path, frame, 75)
                assert window.zoom >= 1.0 and 0 <= window.x <= 1 and 0 <= window.y <= 1
                # the frame's corners map inside a 4:3 picture, at the same scale on both axes
                left, top = source_point(window, 800, 600, W, H, 0, 0)
                right, bottom = source_point(window, 800, 600, W, H, 799, 599)
                assert left <= 0 and top <= 0 and right >= W - 1 and bottom >= H - 1
                assert (right - left) / 799 == pytest.approx((bottom - top) / 599)


def test_a_flat_picture_renders_flat_frames_of_its_colour():
    # GIVEN a uniform orange picture WHEN warped (any window)
    source = KenBurnsSource(np.full((300, 200, 3), (230, 120, 20), np.uint8), 64, 96)
    frame = np.zeros(64 * 96 * 3 // 2, np.uint8)
    source.warp_into(window_at(motion_for(0, "x"), 5, 10), frame)
    # THEN every Y, U and V sample is the BT.709 limited-range value of that colour (no black edge)
    y, u, v = frame[: 64 * 96], frame[64 * 96 : 64 * 96 + 32 * 48], frame[64 * 96 + 32 * 48 :]
    assert np.ptp(y) == 0 and np.ptp(u) == 0 and np.ptp(v) == 0
    assert (int(y[0]), int(u[0]), int(v[0])) == pytest.approx((133, 73, 180), abs=1)


def test_the_fast_resize_warp_matches_warp_affine_and_falls_back_when_it_cannot_place_exactly():
    import cv2

    from faceless.media.kenburns import _resize_start, warp_plane

    rng = np.random.default_rng(7)
    plane = cv2.GaussianBlur(rng.integers(0, 255, (700, 500), dtype=np.uint8), (0, 0), 1.5)
    plane = cv2.copyMakeBorder(plane, 192, 192, 192, 192, cv2.BORDER_REPLICATE)
    cases = [
        (0.8713, 231.377, 0.8713, 205.912),  # an irrational-looking step: the resize path places it
        (5 / 6, 240.29, 5 / 6, 230.61),  # a simple fraction: offsets reach only sixths -> warpAffine
        (1.0, 192.0, 1.0, 192.0),  # the identity (zoom 1 of a picture the frame's size)
    ]
    for a, c, b, d in cases:
        matrix = np.array([[a, 0.0, c], [0.0, b, d]])
        fast, reference = np.empty((320, 240), np.uint8), np.empty((320, 240), np.uint8)
        warp_plane(plane, matrix, fast)
        cv2.warpAffine(plane, matrix, (240, 320), dst=reference, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        difference = np.abs(fast.astype(int) - reference)
        assert difference.mean() < 0.3 and difference.max() <= 4  # warpAffine itself rounds positions to 1/32 px
    assert _resize_start(231.377, 0.8713, plane.shape[1]) is not None
    assert _resize_start(240.29, 5 / 6, plane.shape[1]) is None
