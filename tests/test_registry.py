import pytest

from audit.errors import ConfigError
from audit.registry import Registry


def test_unknown_name_suggests_the_closest() -> None:
    reg: Registry[int] = Registry("rule kind")
    reg.add("required", 1)
    reg.add("matches", 2)
    with pytest.raises(ConfigError, match="Did you mean 'required'"):
        reg.get("requird")
    assert reg.names() == ["matches", "required"]


def test_double_registration_is_a_bug() -> None:
    reg: Registry[int] = Registry("kpi")
    reg.add("a", 1)
    with pytest.raises(ValueError):
        reg.add("a", 2)
