"""YAML for component parameters: YAML 1.2 booleans (only true/false), both ways.

YAML 1.1 reads ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` as booleans, which would turn a
join's ``on: customer_id`` into ``True: customer_id``; here they stay strings, and they are
written back without quotes.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_BOOL = "tag:yaml.org,2002:bool"
_TRUE_FALSE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


@cache
def _classes() -> tuple[type, type]:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    class Dumper(yaml.SafeDumper):
        pass

    for cls in (Loader, Dumper):
        cls.yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        cls.add_implicit_resolver(_BOOL, _TRUE_FALSE, list("tTfF"))
    return Loader, Dumper


def load_yaml(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=_classes()[0])  # a SafeLoader subclass: no Python objects


def dump_yaml(data: Any) -> str:
    import yaml

    return yaml.dump(data, Dumper=_classes()[1], sort_keys=False, allow_unicode=True)
