"""What the README's commands write into the working directory is ignored by git.

Issue 11, point 10: ``.gitignore`` missed the outputs the README writes, so a keeper who
followed it in a clone saw a dirty tree (and ``layout map --png map.png`` still was).
This reads the shell blocks of the README and the walkthrough and checks every file or
folder they name with ``--out``, ``--png`` or an ``sqlite:///`` store.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/walkthrough.md")
#: What the commands write without being told (their --out defaults).
DEFAULT_OUTPUTS = ("tankeco_run", "tankeco_plan", "tankeco_compare")
_BLOCK = re.compile(r"^```(?:sh|console)?\n(.*?)^```", re.S | re.M)
_WRITTEN = re.compile(r"(?:--out|--png)\s+([\w./-]+)|sqlite:///([\w.-]+)")


def written_by_examples() -> set[str]:
    names = set(DEFAULT_OUTPUTS)
    for page in PAGES:
        for block in _BLOCK.findall((ROOT / page).read_text(encoding="utf-8")):
            for line in block.splitlines():
                if not line.lstrip().startswith(("tankeco", "$ tankeco")):
                    continue
                for out, db in _WRITTEN.findall(line):
                    name = out or db
                    if name and name != "DIR" and not name.startswith(("/", "docs/", "sims/")):
                        names.add(name.split("/")[0])
    return names


def ignored(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p.strip("/")) for p in patterns)


def test_every_output_of_the_readme_examples_is_ignored() -> None:
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    patterns = [p for p in lines if p and not p.startswith("#")]
    names = written_by_examples()
    assert {"tank.db", "week.csv", "cmp", "map.png"} <= names  # the parser finds them
    missing = sorted(n for n in names if not ignored(n, patterns))
    assert missing == [], f".gitignore misses what the README writes: {missing}"
