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
