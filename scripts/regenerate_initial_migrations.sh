#!/usr/bin/env bash
# Rebuilds 0001/0002 from the models. Only for use before the first release: once a database
# exists anywhere, add new migrations with `tortoise makemigrations` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/packgraph/migrations/0*.py
backup=$(mktemp -d)
cp -r src/packgraph/models "$backup/"
.venv/bin/python - <<'PY'
import pathlib
for p in pathlib.Path("src/packgraph/models").glob("*.py"):
    out, skip, depth = [], False, 0
    for line in p.read_text().splitlines(keepends=True):
        st = line.strip()
        if not skip and st.startswith(("indexes = (", "constraints = (")):
            depth = line.count("(") - line.count(")")
            skip = depth > 0
            continue
        if skip:
            depth += line.count("(") - line.count(")")
            skip = depth > 0
            continue
        out.append(line)
    p.write_text("".join(out))
PY
.venv/bin/tortoise -c packgraph.db.TORTOISE_ORM makemigrations --name initial
rm -rf src/packgraph/models && cp -r "$backup/models" src/packgraph/models && rm -rf "$backup"
.venv/bin/python scripts/order_migration.py src/packgraph/migrations/0001_initial.py
.venv/bin/tortoise -c packgraph.db.TORTOISE_ORM makemigrations --name indexes_and_constraints
