"""The decisions store's memory is match's input only: a run lets it go once match is done
(issue #12: at 1M contacts the previous run's clusters are hundreds of MB held to the report)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from audit import load_config, review_store
from audit.pipeline import run
from tests.factories import demo_config


def test_match_memory_is_released_before_the_stages_after_match(
    small_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[weakref.ref] = []
    real = review_store.load_memory

    def load_memory(*args: object, **kwargs: object):
        memory = real(*args, **kwargs)
        loaded.append(weakref.ref(memory))
        return memory

    monkeypatch.setattr(review_store, "load_memory", load_memory)
    alive_at: dict[str, bool] = {}

    def progress(stage: str, *rest: object) -> None:
        gc.collect()
        alive_at.setdefault(stage, bool(loaded) and loaded[0]() is not None)

    run(load_config(demo_config(small_demo)), out=tmp_path / "runs", progress=progress)
    assert loaded, "the run read the decisions store"
    # read when match starts (after its progress line), so not alive yet at "match"
    assert alive_at["score"] is False
    assert alive_at["report"] is False
