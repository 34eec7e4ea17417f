"""The blob store's write hold: what an interrupted local run records is not overwritten by a step still running."""

from __future__ import annotations

import threading

from faceless.store import LocalBlobStore, get_json, put_json


def test_once_a_thread_holds_the_store_other_threads_writes_never_land(tmp_path):
    # GIVEN a local store, and a step's thread that will write "running" a little later
    store = LocalBlobStore(tmp_path)
    put_json(store, "jobs/local/j1/status.json", {"status": "running"})
    step_may_write = threading.Event()
    step_tried = threading.Event()

    def step() -> None:
        step_may_write.wait()
        step_tried.set()
        put_json(store, "jobs/local/j1/status.json", {"status": "running", "stage": "plan"})

    writer = threading.Thread(target=step, daemon=True)  # daemon: it stays blocked until the process ends
    writer.start()
    # WHEN the interrupted run takes the store and records the interruption
    store.hold_writes()
    put_json(store, "jobs/local/j1/status.json", {"status": "failed", "error": "Interrupted"})
    # AND the step then tries to write
    step_may_write.set()
    assert step_tried.wait(5)
    writer.join(timeout=0.5)
    # THEN the step's write waits (the process ends around it) and the record stands
    assert writer.is_alive()
    assert get_json(store, "jobs/local/j1/status.json") == {"status": "failed", "error": "Interrupted"}
    # AND the holder itself writes on
    put_json(store, "jobs/local/j1/note.json", {"ok": True})
    assert get_json(store, "jobs/local/j1/note.json") == {"ok": True}


def test_a_claimed_folder_is_in_use_until_released_and_only_a_local_one_can_be(tmp_path):
    from faceless.store import S3BlobStore

    # GIVEN a local store, and another store on the same folder (another process's, as far as locks go)
    store, other = LocalBlobStore(tmp_path), LocalBlobStore(tmp_path)
    assert not other.in_use("jobs/local/j1")
    # WHEN the first claims a video's folder, twice (a retried step)
    store.claim("jobs/local/j1")
    store.claim("jobs/local/j1")
    # THEN both see it in use, and not its neighbour; the claim is kept out of the folder's listing
    assert store.in_use("jobs/local/j1") and other.in_use("jobs/local/j1") and not other.in_use("jobs/local/j2")
    assert store.list("jobs") == []
    # WHEN it releases it
    store.release("jobs/local/j1")
    # THEN nobody sees it in use, and the other may claim it
    assert not other.in_use("jobs/local/j1")
    other.claim("jobs/local/j1")
    assert store.in_use("jobs/local/j1")
    # AND a bucket claims nothing (in the cloud the jobs table says which videos are being made)
    bucket = S3BlobStore("b", client=object())
    bucket.claim("jobs/local/j1")
    assert not bucket.in_use("jobs/local/j1")


def test_a_folder_that_cannot_hold_claims_makes_no_claim_and_no_error(tmp_path):
    # GIVEN a folder where the claims' folder cannot be made (a file has its name)
    (tmp_path / ".claims").write_text("not a folder")
    store = LocalBlobStore(tmp_path)
    # WHEN a run claims a video's folder
    store.claim("jobs/local/j1")
    # THEN nothing fails (a video is never failed by its claim), and nothing is in use
    assert not store.in_use("jobs/local/j1")
    store.release("jobs/local/j1")


def test_the_folders_right_under_a_prefix_are_listed_in_a_folder_and_in_a_bucket(tmp_path):
    import boto3
    from moto import mock_aws

    from faceless.store import S3BlobStore

    # GIVEN two videos' files (one nested deeper), and a file beside them, in a local store and a bucket
    keys = ["jobs/local/a/status.json", "jobs/local/b/images/0.png", "jobs/local/readme.txt", "jobs/other/c/x.json"]
    local = LocalBlobStore(tmp_path)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="blobs")
        bucket = S3BlobStore("blobs", client=client)
        for store in (local, bucket):
            for key in keys:
                store.put_bytes(key, b"x")
            # WHEN the folders under the tenant's prefix are asked for
            # THEN the video folders alone come back, by name, in order; an unknown prefix has none
            assert store.folders("jobs/local") == ["a", "b"]
            assert store.folders("jobs/nobody") == []
