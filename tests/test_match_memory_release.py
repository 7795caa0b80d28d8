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


def test_match_features_are_freed_without_the_cyclic_collector() -> None:
    """The features and their codes die when the comparer is dropped, not at some later cyclic
    collection: at 300k contacts a reference cycle kept about 200 MB alive through survivorship
    (issue #12). Names in two scripts make the comparer build its cross-script part."""
    import pandas as pd

    from audit.config import MatchConfig
    from audit.match.compare import Comparer
    from audit.match.prepare import features
    from audit.match.rules import load_rules

    frame = pd.DataFrame(
        {
            "record_id": ["a:1", "a:2", "a:3", "a:4"],
            "source": ["a"] * 4,
            "full_name": ["佐藤 花子", "Hanako Sato", "김민준", "Minjun Kim"],
            "email": ["h@example.jp", None, "m@example.kr", None],
        }
    )
    feats = features(frame)
    rules = load_rules(MatchConfig().rules)
    comparer = Comparer(feats, rules.comparisons, rules.nicknames)
    assert comparer.xs is not None, "the cross-script part is what this test is about"
    alive = weakref.ref(comparer)
    frame_alive = weakref.ref(feats)
    gc.disable()
    try:
        del comparer, feats
        assert alive() is None
        assert frame_alive() is None
    finally:
        gc.enable()


def test_link_frees_a_handed_over_features_frame_before_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given as `Owned`, the features frame dies once the comparer has encoded it: blocking,
    training and scoring read codes and dictionaries only (issue #12: about 100 MB at 300k
    contacts held through linking); the pairs found are those of the frame passed as is."""
    import pandas as pd

    from audit.config import MatchConfig
    from audit.match import engine
    from audit.match.engine import Owned, link
    from audit.match.prepare import features
    from audit.match.rules import load_rules

    frame = pd.DataFrame(
        {
            "record_id": [f"a:{k}" for k in range(8)],
            "source": ["a"] * 8,
            "first_name": ["Anna", "Anna", "Ben", "Benjamin", "Chloe", "Chloé", "Dan", "Eve"],
            "last_name": ["Berg", "Berg", "Stone", "Stone", "Martin", "Martin", "Kim", "Ng"],
            "email": ["anna@x.io", "anna@x.io", "ben@y.io", "ben@y.io", None, None, None, None],
            "phone": [None, None, None, None, "+15551230001", "+15551230001", None, None],
            "city": ["Oslo", "Oslo", "Leeds", "Leeds", "Lyon", "Lyon", "Seoul", "Perth"],
        }
    )
    cfg = MatchConfig()
    rules = load_rules(cfg.rules)
    kw = {"review": cfg.review_threshold, "auto": cfg.auto_threshold}
    kept = link(features(frame), rules, **kw)

    feats = features(frame)
    frame_alive = weakref.ref(feats)
    seen: list[bool] = []
    real_train = engine.train

    def train(*args: object, **kwargs: object):
        seen.append(frame_alive() is not None)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(engine, "train", train)
    handed = Owned(feats)
    del feats
    gc.disable()
    try:
        linked = link(handed, rules, **kw)
    finally:
        gc.enable()
    assert seen == [False]
    pd.testing.assert_frame_equal(linked.pairs, kept.pairs)
    assert len(linked.pairs) >= 3
    with pytest.raises(RuntimeError):
        handed.take()
