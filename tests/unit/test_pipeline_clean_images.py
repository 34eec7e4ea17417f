"""Which stored picture the thumbnail may use for a segment: its picture without the words its
provider set on it (offline cards), also when the segment reuses another segment's picture."""

from __future__ import annotations

from faceless.models import ImageAsset, SegmentMedia, VoiceAsset
from faceless.pipeline import _clean_image_path
from faceless.store import LocalBlobStore


def _media(index: int, clean_key: str | None = None, reused_from: int | None = None) -> SegmentMedia:
    image = ImageAsset(index=index, key=f"images/{index:02d}.png", width=9, height=16, provider="offline",
                       clean_key=clean_key, reused_from=reused_from)  # fmt: skip
    voice = VoiceAsset(index=index, key=f"voice/{index:02d}.wav", duration_seconds=1.0, words=[], provider="espeak",
                       characters=3)  # fmt: skip
    return SegmentMedia(image=image, voice=voice)


def test_a_segment_reusing_a_picture_gets_the_clean_version_of_the_picture_it_reuses(tmp_path):
    # GIVEN segment 0's card and its clean scene stored, segment 1 drawn by a provider that sets no
    # words (no clean version), and segment 2 reusing segment 0's picture
    store = LocalBlobStore(tmp_path)
    clean = store.put_bytes("images/00.clean.jpg", b"\xff\xd8\xff", "image/jpeg")
    media = [_media(0, clean_key=clean), _media(1), _media(2, reused_from=0)]
    # WHEN the thumbnail's candidates are resolved
    paths = [_clean_image_path(store, media, item) for item in media]
    # THEN segment 0 and the segment reusing its picture both offer segment 0's clean scene; segment 1 none
    assert paths[0] == paths[2] == store.local_path(clean)
    assert paths[1] is None
