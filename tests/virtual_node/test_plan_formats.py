"""The plan and every message of each format, through the bridge's own decode → validate."""

from __future__ import annotations

import json
import tomllib
from collections import Counter

import numpy as np
import pytest
from paho.mqtt.client import topic_matches_sub

from tankeco import reasons
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.bridge.mapping import parse_mapping
from tankeco.node.formats import (
    FORMATS,
    Outgoing,
    bridge_mapping_toml,
    make_encoder,
    messages,
    ph_counts,
    ph_from_counts,
)
from tankeco.node.reading_plan import NH3, PH, TEMP, NodeSettings, build_plan
from tankeco.node.sensors import is_ds18b20_sentinel
from tankeco.sim.results import Results
from tankeco.store import Batch
from tankeco.units.kits import KITS
from tankeco.units.molar import NH3_PER_NH3_N
from tests.virtual_node.conftest import DAYS

START_MS = 1_790_000_000_000  # 2026-09-21


def settings(fmt: str = "native", **kw) -> NodeSettings:
    """Readings every 5 min keep the tests quick; the tasmota ADC is read every period."""
    base = dict(start_ms=START_MS, days=DAYS, seed=11, sentinel_rate=0.01, interval_s=300.0,
                ammonia_interval_s=300.0 if fmt == "tasmota" else 1800.0)  # fmt: skip
    return NodeSettings(**(base | kw))


def test_the_plan_is_reproducible_with_its_seed(seed_results: Results) -> None:
    ts, ev = seed_results.timeseries, seed_results.events
    a, b = build_plan(ts, ev, settings()), build_plan(ts, ev, settings())
    c = build_plan(ts, ev, settings(seed=12))
    for name in ("t_s", "ts_ms", "temp_c", "ph", "nh3_mg_l"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True)
    assert a.kit_entries == b.kit_entries and a.probes == b.probes
    assert not np.array_equal(a.temp_c, c.temp_c[: a.temp_c.size])
    assert a.probes.ds18b20_rom != c.probes.ds18b20_rom


def test_the_plan_follows_the_simulation_with_gaps_and_skew(seed_results: Results) -> None:
    ts = seed_results.timeseries
    plan = build_plan(ts, seed_results.events, settings(dropout_rate_per_d=2.0))
    n_full = int(DAYS * 288) + 1
    assert len(plan.gaps_d) > 0 and plan.t_s.size < n_full
    assert np.all(np.diff(plan.t_s) >= 300.0) and np.any(np.diff(plan.t_s) > 300.0)
    skew_ms = plan.ts_ms - (START_MS + plan.t_s * 1000)
    assert np.abs(skew_ms - plan.probes.clock.offset_s * 1000).max() < 200
    t_d = plan.t_s / 86_400
    ok = ~is_ds18b20_sentinel(plan.temp_c)
    temp = np.interp(t_d, ts["time_d"], ts["temp_c"])
    assert np.abs(plan.temp_c[ok] - temp[ok]).max() < 0.25 + 0.0625 + 0.1
    ph = np.interp(t_d, ts["time_d"], ts["ph"])
    assert np.abs(plan.ph - ph).max() < plan.probes.ph.max_drift_ph + 0.1
    measured = ~np.isnan(plan.nh3_mg_l)
    assert np.all(np.round(plan.t_s[measured]) % 1800 == 0)


def test_sim_events_become_keeper_events(seed_results: Results) -> None:
    plan = build_plan(seed_results.timeseries, seed_results.events, settings())
    kinds = Counter(e.kind for e in plan.events)
    sim = Counter(seed_results.events["event"])
    assert kinds["feeding"] == sim["feeding"] and kinds["water_change"] == sim["water_change"] >= 1
    feeds = sorted({(e.note, e.amount, e.unit) for e in plan.events if e.kind == "feeding"})
    assert feeds == [("fish food", 0.3, "g"), ("turtle pellets", 2.0, "g")]
    stamps = [(e.kind, e.ts_ms) for e in plan.events]
    assert len(set(stamps)) == len(stamps)  # turtle and fish fed a minute apart
    wc = next(e for e in plan.events if e.kind == "water_change")
    assert wc.unit == "L" and wc.amount == pytest.approx(15.0, abs=0.1)
    assert [round(k.t_s / 86_400, 3) for k in plan.kit_entries] == [6.792]
    assert plan.kit_entries[0].value in KITS[("api", "no3_n")].steps


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="whole multiple"):
        NodeSettings(start_ms=START_MS, days=1, interval_s=60, ammonia_interval_s=90)
    with pytest.raises(ValueError, match="1 to 3600"):
        NodeSettings(start_ms=START_MS, days=1, interval_s=0.5)


def ingest_all(msgs: list[Outgoing], mapping_toml: str) -> Batch:
    """Every message the bridge would receive (its subscriptions), a second after sending."""
    ingestor = Ingestor(parse_mapping(tomllib.loads(mapping_toml)))
    subs = ingestor.subscriptions()
    batch = Batch()
    for m in msgs:
        if any(topic_matches_sub(s, m.topic) for s in subs):
            received_ms = START_MS + int(m.t_s * 1000) + 1000
            ingestor.ingest(Message(m.topic, m.payload, received_ms, False), batch)
    return batch


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_message_decodes_and_only_sentinels_are_quarantined(
    seed_results: Results, fmt: str
) -> None:
    plan = build_plan(seed_results.timeseries, seed_results.events, settings(fmt))
    enc = make_encoder(plan, fmt)
    msgs = [*messages(enc), enc.goodbye(plan.t_s[-1])]
    batch = ingest_all(msgs, bridge_mapping_toml(enc))

    sentinels = int(is_ds18b20_sentinel(plan.temp_c).sum())
    assert sentinels > 0
    assert Counter(q.reason for q in batch.quarantine) == {reasons.SENTINEL: sentinels}
    assert all(
        json.loads(q.payload)["value"] in (85.0, -127.0)
        for q in batch.quarantine
        if fmt == "native"
    )
    by_sensor = Counter(r.sensor for r in batch.readings)
    n_nh3 = int((~np.isnan(plan.nh3_mg_l)).sum())
    assert by_sensor == {TEMP: plan.t_s.size - sentinels, PH: plan.t_s.size, NH3: n_nh3}
    assert len(batch.events) == len(plan.events)
    assert [(m.value_entered, m.off_card) for m in batch.manual] == [
        (k.value, False) for k in plan.kit_entries
    ]

    # The stored values are the plan's, converted once to canonical units.
    ph = np.array([r.value for r in batch.readings if r.sensor == PH])
    nh3 = np.array([r.value for r in batch.readings if r.sensor == NH3])
    temp = np.array([r.value for r in batch.readings if r.sensor == TEMP])
    ok = ~is_ds18b20_sentinel(plan.temp_c)
    ph_tol = 0.5 / 223 if fmt == "tasmota" else 0.005
    assert np.abs(ph - plan.ph).max() <= ph_tol + 1e-9
    assert np.abs(nh3 - plan.nh3_mg_l[~np.isnan(plan.nh3_mg_l)] / NH3_PER_NH3_N).max() < 0.0005
    assert np.abs(temp - plan.temp_c[ok]).max() <= (0.005 if fmt == "tasmota" else 1e-9)
    if fmt != "esphome":  # ESPHome sends no time: the bridge stamps the receive time
        assert [r.ts_ms // 1000 for r in batch.readings if r.sensor == PH] == [
            int(t) // 1000 for t in plan.ts_ms
        ]


def test_native_messages_carry_sequence_retained_meta_and_a_will(seed_results: Results) -> None:
    plan = build_plan(seed_results.timeseries, seed_results.events, settings())
    enc = make_encoder(plan, "native")
    msgs = list(messages(enc))
    states = [json.loads(m.payload) for m in msgs if m.topic.endswith("/state")]
    assert [s["seq"] for s in states] == list(range(1, len(states) + 1))
    assert {m.topic for m in msgs if m.retain} == {
        "tankeco/v1/home/main/vnode/status",
        *(f"tankeco/v1/home/main/{s}/meta" for s in (TEMP, PH, NH3)),
    }
    assert msgs[0].payload == b"online" and msgs[0].retain
    will = enc.will()
    assert (will.topic, will.payload, will.retain) == (msgs[0].topic, b"offline", True)
    meta = json.loads(next(m.payload for m in msgs if m.topic.endswith("temp/meta")))
    assert meta["resolution"] == 0.0625 and meta["source"]["id"] == plan.probes.ds18b20_rom
    assert [m.t_s for m in msgs] == sorted(m.t_s for m in msgs)


def test_tasmota_adc_calibration_round_trips() -> None:
    for ph in (6.0, 6.8, 7.5, 8.4):
        assert ph_from_counts(ph_counts(ph)) == pytest.approx(ph, abs=0.5 / 223 + 1e-12)


def test_esphome_mapping_names_each_state_topic(seed_results: Results) -> None:
    plan = build_plan(seed_results.timeseries, seed_results.events, settings(days=0.1))
    mapping = parse_mapping(tomllib.loads(bridge_mapping_toml(make_encoder(plan, "esphome"))))
    assert {(t.sensor, t.quantity, t.unit) for t in mapping.esphome.values()} == {
        (TEMP, "temperature", "°C"), (PH, "ph", "pH"), (NH3, "nh3_n", "mg/L NH3")
    }  # fmt: skip
