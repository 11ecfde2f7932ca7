"""Reorder the CreateModel operations of a generated migration so every table is created after the
tables it references.

Tortoise 1.1's autodetector emits models alphabetically and its PostgreSQL schema editor silently
drops foreign keys to tables not yet created. The one reference cycle (Client.preferred_pack ->
Pack -> Client) is broken by adding Client.preferred_pack after Pack exists.

Usage: python scripts/order_migration.py src/packgraph/migrations/0001_initial.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFERRED = {("Client", "preferred_pack")}


def main(path: Path) -> None:
    text = path.read_text()
    head, rest = text.split("    operations = [\n", 1)
    body, tail = rest.rsplit("    ]\n", 1)
    blocks = re.split(r"(?m)^(?=        ops\.CreateModel\()", body)
    prefix, blocks = blocks[0], blocks[1:]
    models: dict[str, str] = {}
    deferred_ops: list[str] = []
    for block in blocks:
        name = re.search(r"name='(\w+)'", block).group(1)
        for model_name, field_name in DEFERRED:
            if model_name != name:
                continue
            match = re.search(rf"(?m)^                \('{field_name}', (.*)\),\n", block)
            block = block.replace(match.group(0), "")
            deferred_ops.append(
                f"        ops.AddField(\n            model_name='{name}',\n"
                f"            name='{field_name}',\n            field={match.group(1)},\n        ),\n"
            )
        models[name] = block
    order: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in order:
            return
        if name in stack:
            raise SystemExit(f"reference cycle through {name}: add it to DEFERRED")
        for dependency in re.findall(r"'models\.(\w+)'", models[name]):
            if dependency != name:
                visit(dependency, (*stack, name))
        order.append(name)

    for name in sorted(models):
        visit(name)
    ordered = "".join(models[name] for name in order) + "".join(deferred_ops)
    path.write_text(head + "    operations = [\n" + prefix + ordered + "    ]\n" + tail)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
