"""``layout compare --png``: a picture a screen can show (issue 11, point 9).

Before: the seven layouts of ``sims/layouts`` were drawn in one row, a 5005 x 462 px
strip.  Now they wrap onto rows of at most three panels.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tankeco.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_seven_layouts_wrap_onto_rows(tmp_path: Path, capsys) -> None:
    layouts = sorted(str(p) for p in (ROOT / "sims" / "layouts").glob("*.toml"))
    assert len(layouts) >= 7
    png = tmp_path / "compare.png"
    assert main(["layout", "compare", *layouts, "--png", str(png)]) == 0
    head = png.read_bytes()[:24]  # PNG signature, then the IHDR chunk: width, height
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    assert width <= 2200, (width, height)  # three panels of 6.5 in at 110 dpi
    assert width / height < 2.0, (width, height)  # not a strip
