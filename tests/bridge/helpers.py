"""Payload builders shared by the bridge tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

NOW_MS = int(datetime(2026, 11, 26, 9, 52, tzinfo=UTC).timestamp() * 1000)
TOPIC = "tankeco/v1/home/main/temp1/state"


def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def native(
    value: object = 25.06, *, seq: int = 1, ts_ms: int | None = NOW_MS - 1000, **kw: object
) -> bytes:
    body: dict[str, object] = {
        "v": 1,
        "seq": seq,
        "quantity": "temperature",
        "value": value,
        "unit": "°C",
        "quality": "ok",
        "source": {"kind": "ds18b20", "id": "28-000008bd38bf"},
    }
    if ts_ms is not None:
        body["ts"] = iso(ts_ms)
    body.update(kw)
    return json.dumps(body).encode()
