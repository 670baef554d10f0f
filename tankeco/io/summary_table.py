"""The short table ``tankeco simulate`` prints: what a keeper wants to know first."""

from __future__ import annotations

from tankeco.scenario import thresholds as limits
from tankeco.sim.results import Results
from tankeco.units.kits import kit_for
from tankeco.units.quantities import lookup, to_canonical

#: The hobby kit whose card units the summary also reads in (the API master kit: ammonia
#: card as NH3, nitrite as NO2, nitrate as NO3; see tankeco.units.kits).
KIT = "api"


def on_kit(quantity: str, value_n_mg_l: float) -> str:
    """``= 0.57 mg/L NH3 on the api card``: a value as N in the unit the kit's card reads.

    The conversions are linear (molar masses), so the card unit's factor to canonical is
    ``to_canonical(q, 1, unit)`` and the card value is the canonical one divided by it.
    """
    card = kit_for(KIT, quantity)
    factor = to_canonical(lookup(quantity), 1.0, card.unit)
    return f"= {value_n_mg_l / factor:.3g} {card.unit} on the {KIT} card"


def format_summary(results: Results, elapsed_s: float | None = None, compile_s: float = 0.0) -> str:
    """The summary table; ``compile_s`` (the first run's numba compile) is reported apart."""
    s, nb = results.summary, results.balance["nitrogen_mg"]
    rows = [
        (
            "peak total ammonia",
            f"{s['peak_tan_mg_l']['value']:.3f} mg N/L",
            f"day {s['peak_tan_mg_l']['day']:.1f}; " + on_kit("tan_n", s["peak_tan_mg_l"]["value"]),
        ),
        (
            "peak free ammonia NH3",
            f"{s['peak_nh3_mg_l']['value']:.4f} mg N/L",
            f"day {s['peak_nh3_mg_l']['day']:.1f}",
        ),
        (
            "peak nitrite",
            f"{s['peak_no2_n_mg_l']['value']:.3f} mg N/L",
            f"day {s['peak_no2_n_mg_l']['day']:.1f}; "
            + on_kit("no2_n", s["peak_no2_n_mg_l"]["value"]),
        ),
        (
            "days above NH3 limit",
            f"{s['days_above_nh3_limit']:.1f} d",
            f"limit {limits.FREE_NH3_N_MG_L:.4f} mg N/L",
        ),
        (
            "days above nitrite limit",
            f"{s['days_above_no2_limit']:.1f} d",
            f"limit {limits.NO2_N_MG_L:g} mg N/L",
        ),
        (
            "nitrate at the end",
            f"{s['no3_n_end_mg_l']:.2f} mg N/L",
            on_kit("no3_n", s["no3_n_end_mg_l"]) + f"; max {s['no3_n_max_mg_l']:.2f} mg N/L",
        ),
        (
            "lowest oxygen (water / bed)",
            f"{s['do_min_mg_l']:.2f} / {s['bed_do_min_mg_l']:.2f} mg/L",
            "",
        ),
        (
            "pH (lowest / end)",
            f"{s['ph_min']:.2f} / {s['ph_end']:.2f}",
            f"alkalinity at end {s['alk_end_mg_l_caco3']:.0f} mg/L CaCO3",
        ),
    ]
    q = s["zone_flow_l_h"]
    rows.append(
        (
            "filter: pump / zones",
            f"{s['pump_flow_l_h']:.0f} L/h",
            f"zones {min(q):.0f}-{max(q):.0f} L/h, anoxic zone-days {s['anoxic_zone_days']:.1f}",
        )
    )
    rows.append(
        (
            "nitrification capacity",
            f"{s['nitrification_capacity_mg_n_d'] / 1000:.2f} g N/d",
            f"steady, TAN held at {s['nitrification_capacity_tan_mg_l']:g} mg/L; the bed alone "
            f"{s['nitrification_capacity_bed_mg_n_d'] / 1000:.1f} g N/d with O2 to spare; "
            f"lowest porosity {s['bed_porosity_min']:.3f}",
        )
    )
    if s["start"] == "new":
        day = s["cycle_completed_day"]
        rows.append(
            (
                "cycle completed",
                "not yet" if day is None else f"day {day:.0f}",
                "ammonia and nitrite < 0.25 mg/L at the daily check",
            )
        )
    rows.append(
        (
            "nitrogen balance residual",
            f"{nb['residual']:.2e} mg",
            f"relative {nb['relative_residual']:.1e}",
        )
    )
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    head = f"{s['scenario']}: {s['days']:g} days"
    if elapsed_s is not None and compile_s > 1.0:
        head += f" (simulated in {elapsed_s - compile_s:.2f} s after compiling {compile_s:.0f} s)"
    elif elapsed_s is not None:
        head += f" (simulated in {elapsed_s:.2f} s)"
    lines = [head, "-" * len(head)]
    lines += [f"{a:<{width}}  {b:>{vwidth}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)
