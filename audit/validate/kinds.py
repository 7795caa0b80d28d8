"""The registry of rule kinds: what each kind checks, its parameters and where it runs.

A kind is implemented once, as a vectorized function returning a boolean "failed" mask.
Kinds that Great Expectations has a built-in expectation for also say how to compile to it
(`gx=`); the others reach the GX contract as a flag column the engine computes. Built-in
kinds are registered by the modules listed in `checks/__init__.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from audit.model import Records
from audit.registry import Registry


class Params(BaseModel):
    """Base for kind parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


@dataclass
class Context:
    """What a check may look at besides its own frame."""

    records: Records
    as_of: dt.date
    stale_after_days: int
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def as_of_ts(self) -> pd.Timestamp:
        """End of the as_of day in UTC: anything after it is 'in the future'."""
        return pd.Timestamp(self.as_of, tz="UTC") + pd.Timedelta(days=1)


@dataclass
class Outcome:
    """A check's answer. `failed` and `checked` are boolean Series on the frame's index.

    `checked` defaults to "the field is present"; `value`, `suggestion`, `evidence` and `extra`
    (values for the message template) are optional per-row Series.
    """

    failed: pd.Series
    checked: pd.Series | None = None
    value: pd.Series | None = None
    suggestion: pd.Series | None = None
    evidence: pd.Series | None = None
    extra: dict[str, pd.Series] = field(default_factory=dict)


class Skip(Exception):
    """Raised by a check when what it needs is absent (entity or column): status 'skipped'."""


@dataclass(frozen=True)
class Scope:
    """Which records a rule must see together to give the answer it gives on the whole data.

    - row: each row alone (any split of the frame gives the same findings);
    - key: every record sharing the values of `keys` (uniqueness: its value, within its source);
    - email_key: every record sharing the rule field's email key, with the email events and
      activities of that key (`with_entities`) - staleness and bounces;
    - reference: the whole target entity `with_entities` (handed whole, or its keys broadcast).

    A distributed engine partitions by this (DESIGN.md, "Engines"); row order inside a
    partition must stay the frame's (evidence names the first of repeated rows).
    """

    kind: Literal["row", "key", "email_key", "reference"] = "row"
    keys: tuple[str, ...] = ()
    with_entities: tuple[str, ...] = ()


ROW = Scope()

Check = Callable[[pd.DataFrame, Any, Context], Outcome]
GxCompile = Callable[[Any], tuple[str, dict[str, Any]] | None]  # None: use a flag column


@dataclass(frozen=True)
class Kind:
    name: str
    engine: Literal["gx", "vectorized"]
    params: type[Params]
    check: Check
    doc: str
    gx: GxCompile | None = None
    needs_field: bool = True
    columns: Callable[[Any], tuple[str, ...]] | None = None  # other columns a rule reads
    scope: Callable[[Any], Scope] = lambda rule: ROW

    def scope_of(self, rule: Any) -> Scope:
        """The records `rule` (of this kind) must see together (`Scope`)."""
        return self.scope(rule)


KINDS: Registry[Kind] = Registry("rule kind")


def kind(
    name: str,
    *,
    params: type[Params] = NoParams,
    gx: GxCompile | None = None,
    needs_field: bool = True,
    columns: Callable[[Any], tuple[str, ...]] | None = None,
    scope: Callable[[Any], Scope] | None = None,
) -> Callable[[Check], Check]:
    """Register a vectorized check function as a rule kind (its docstring documents it)."""

    def deco(fn: Check) -> Check:
        first = (fn.__doc__ or name).strip().split("\n\n")[0]
        doc = " ".join(line.strip() for line in first.splitlines())
        KINDS.add(
            name,
            Kind(
                name=name,
                engine="gx" if gx is not None else "vectorized",
                params=params,
                check=fn,
                doc=doc,
                gx=gx,
                needs_field=needs_field,
                columns=columns,
                scope=scope or (lambda rule: ROW),
            ),
        )
        return fn

    return deco


from . import checks  # noqa: E402,F401  (fills KINDS)
