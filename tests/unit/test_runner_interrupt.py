"""Stopping a local run: its temporary folder goes, even while a thread still running writes into it."""

from __future__ import annotations

import shutil

from faceless.runner import interrupt


def test_the_run_folder_goes_even_if_a_running_thread_makes_it_again(tmp_path, monkeypatch):
    # GIVEN a run's temporary folder with a render's files in it
    folder = tmp_path / "faceless-run-x"
    (folder / "faceless-render-1").mkdir(parents=True)
    (folder / "faceless-render-1" / "frame.png").write_bytes(b"png")
    # AND a render thread that, right after the first removal, makes its folder again with
    # mkdir(parents=True) and writes into it (as the thumbnail's fonts folder did in a full test run)
    real_rmtree, removals = shutil.rmtree, []

    def rmtree_then_a_thread_writes(path, ignore_errors=False):
        real_rmtree(path, ignore_errors=ignore_errors)
        removals.append(path)
        if len(removals) == 1:
            (folder / "faceless-render-1" / "title-fonts").mkdir(parents=True)
            (folder / "faceless-render-1" / "title-fonts" / "face.ttf").write_bytes(b"ttf")

    monkeypatch.setattr(interrupt.shutil, "rmtree", rmtree_then_a_thread_writes)
    # WHEN the interrupted run removes its folder
    interrupt._remove_while_written(folder)
    # THEN nothing of it is left, under its name or aside
    assert list(tmp_path.iterdir()) == []
    assert len(removals) == 2
