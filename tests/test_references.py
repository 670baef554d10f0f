"""docs/references.md lists every source the project cites, so each number can be traced.

Issue 9: the code and tests used to cite notes that were not in the repository.  These
tests keep the bibliography complete and the citations checkable:

* every author-year citation ("Name 1999", "Name et al. (1999)", "Name & Name 1999",
  "Name, Name & Name 1999") in tankeco/, tests/, sims/, firmware/, the README and the
  other pages of docs/ has an entry heading (``### ...``) in docs/references.md naming the
  last author before the year and the year;
* every parameter of the table appears there with its default, every water-quality
  threshold with its value, every test-kit card with its steps;
* no file of the project points to notes outside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tankeco.scenario import thresholds
from tankeco.scenario.params import PARAMETERS
from tankeco.units.kits import KITS

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"
CITING_DIRS = ("tankeco", "tests", "sims", "firmware")
#: Single files that cite: the README and every page of docs/ but the bibliography itself.
CITING_FILES = ("README.md",) + tuple(
    str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md")) if p != REFERENCES
)
THIS_FILE = Path(__file__).resolve()
#: Folders that are not the project's text: tool caches (.git, .hypothesis, .pytest_cache ...),
#: byte code, build output.  Of the dot-folders only the CI script's is the project's.
SKIP_DIRS = {"__pycache__", "node_modules", "build", "dist"}
KEEP_DOT_DIRS = {".ci", ".github"}

_NAME = r"[A-Z][A-Za-z\u00C0-\u017F'’\-]+"
#: An author list (names joined by ", ", " & " or " and "), optionally "et al.", then a
#: year 1800-2099, optionally in parentheses; "2011.03" (a report number) is not a year.
CITATION = re.compile(
    rf"\b({_NAME}(?:(?:,\s*|\s+(?:&|and)\s+){_NAME})*)(?:\s+et\s+al\.?)?"
    r"\s*(?:,\s*|\(|\s)\s*((?:1[89]|20)\d\d)[a-z]?\b(?!\.?\d)"
)
#: Capitalised words before a four-digit number that are not authors.
NOT_AUTHORS = {
    "Re": "a Reynolds number (Re 2000)",
    "Publisher": "a test helper called with the port 1883",
}
#: Pointers to notes outside the repository (built in pieces so this file passes its own test).
FORBIDDEN = ("REFERENCES" + ".md", "DESIGN" + ".md", "../" + "shared", "/" + "work/")


def _skipped(folder: str) -> bool:
    return (
        folder in SKIP_DIRS
        or folder.endswith(".egg-info")
        or (folder.startswith(".") and folder not in KEEP_DOT_DIRS)
    )


def _text_files(top: Path) -> Iterator[Path]:
    """Files under ``top``, not descending into skipped folders (.git can be large)."""
    for here, folders, files in os.walk(top):
        folders[:] = sorted(f for f in folders if not _skipped(f))
        for name in sorted(files):
            if name != ".git":  # a worktree's pointer to its repository
                yield Path(here) / name


def _read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def citations(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, last author, year) of every author-year citation in ``text``."""
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in CITATION.finditer(line):
            authors = re.split(r",\s*|\s+(?:&|and)\s+", m.group(1))
            last = re.sub(r"['’]s$", "", authors[-1])
            if last not in NOT_AUTHORS:
                yield lineno, last, m.group(2)


def entry_headings(references_text: str) -> list[str]:
    return [line for line in references_text.splitlines() if line.startswith("### ")]


def is_listed(author: str, year: str, headings: Iterable[str]) -> bool:
    """True if one entry heading names both ``author`` (as a word) and ``year``."""
    name = re.compile(rf"(?<![A-Za-z]){re.escape(author)}(?![A-Za-z])")
    when = re.compile(rf"\b{year}\b")
    return any(name.search(h) and when.search(h) for h in headings)


def missing_citations(
    texts: dict[str, str], references_text: str
) -> list[tuple[str, int, str, str]]:
    """(file, line, author, year) of each citation in ``texts`` with no entry."""
    headings = entry_headings(references_text)
    return [
        (where, lineno, author, year)
        for where, text in texts.items()
        for lineno, author, year in citations(text)
        if not is_listed(author, year, headings)
    ]


@pytest.fixture(scope="module")
def references_text() -> str:
    return REFERENCES.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reference_lines(references_text: str) -> list[str]:
    return references_text.splitlines()


def _citing_texts() -> dict[str, str]:
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in CITING_FILES}
    for top in CITING_DIRS:
        for path in _text_files(ROOT / top):
            if path.resolve() == THIS_FILE:
                continue  # holds a made-up citation on purpose
            text = _read_text(path)
            if text is not None:
                texts[str(path.relative_to(ROOT))] = text
    return texts


def test_checker_flags_a_made_up_citation_and_accepts_a_listed_one() -> None:
    """The check can fail: an author-year citation with no entry is reported."""
    refs = "### Emerson, Russo, Lund & Thurston 1975 — Aqueous ammonia equilibrium\n"
    texts = {
        "a.py": "pKa from Emerson et al. (1975); rate from Madeupname et al. 2031",
        "b.py": "Re 2000 is laminar; Technical Memorandum 2011.03",
        "c.toml": "# as Smith & Jones 1999 found, and Garcia, Lee & Wong (2004)",
    }
    assert missing_citations(texts, refs) == [
        ("a.py", 1, "Madeupname", "2031"),
        ("c.toml", 1, "Jones", "1999"),
        ("c.toml", 1, "Wong", "2004"),
    ]


def test_every_citation_has_an_entry(references_text: str) -> None:
    texts = _citing_texts()
    assert len(texts) > 100  # the scan reached the package, the tests and the scenarios
    missing = missing_citations(texts, references_text)
    assert not missing, "cited but not in docs/references.md:\n" + "\n".join(
        f"  {where}:{lineno}: {author} {year}" for where, lineno, author, year in missing
    )


def test_every_parameter_is_listed_with_its_default(reference_lines: list[str]) -> None:
    """Each row of the parameter table appears as ``name`` = default under its source."""
    missing = [
        f"`{p.name}` = {p.default:g}"
        for p in PARAMETERS.values()
        if not any(f"`{p.name}`" in line and f"= {p.default:g}" in line for line in reference_lines)
    ]
    assert not missing, "parameters missing from docs/references.md: " + ", ".join(missing)


def test_every_citation_in_a_parameter_source_has_an_entry(references_text: str) -> None:
    headings = entry_headings(references_text)
    missing = [
        f"{p.name}: {author} {year}"
        for p in PARAMETERS.values()
        for _, author, year in citations(f"{p.source}\n{p.note}")
        if not is_listed(author, year, headings)
    ]
    assert not missing, "parameter sources missing from docs/references.md: " + "; ".join(missing)


def test_every_threshold_is_listed_with_its_value(reference_lines: list[str]) -> None:
    # the numbers only: the module also imports the registry's Threshold rows it names
    values = {
        k: v
        for k, v in vars(thresholds).items()
        if k.isupper() and isinstance(v, int | float) and not isinstance(v, bool)
    }
    assert len(values) >= 9
    missing = [
        f"`{k}` = {v:.4g}"
        for k, v in values.items()
        if not any(f"`{k}`" in line and f"= {v:.4g}" in line for line in reference_lines)
    ]
    assert not missing, "thresholds missing from docs/references.md: " + ", ".join(missing)


def test_every_kit_card_is_listed_with_its_steps(reference_lines: list[str]) -> None:
    missing = []
    for kit in KITS.values():
        steps = ", ".join(f"{s:g}" for s in kit.steps)
        key = f"`{kit.name}/{kit.quantity}`"
        if not any(key in line and steps in line for line in reference_lines):
            missing.append(f"{key}: {steps}")
    assert not missing, "kit cards missing from docs/references.md: " + "; ".join(missing)


def test_no_file_points_to_notes_outside_the_repository() -> None:
    found = []
    for path in _text_files(ROOT):
        if path.resolve() == THIS_FILE:
            continue
        text = _read_text(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{lineno}: {f}" for f in FORBIDDEN if f in line]
    assert not found, "citations of files outside the repository:\n" + "\n".join(found)
