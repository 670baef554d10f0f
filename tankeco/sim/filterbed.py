"""The undergravel filter as the simulator sees it: which share of the pump's flow each bed
zone gets, and how retained solids clog the zones and move that share elsewhere.

With a layout (``[filter] layout``) the pipe network of :mod:`tankeco.hydraulics` is
solved with each zone's current porosity; zones that collect solids lose porosity
(Kozeny-Carman raises their Ergun resistance) and the flow shifts to the others.  Without
one the pump's nominal flow is split evenly, as in a perfectly laid filter.

Retained solids per zone (dry g): the inert part of uneaten feed and faeces (never decays),
plus the organic waste that has not yet been mineralised (COD / 1.42) and the nitrifier
biofilm (VSS).  Their volume as deposit is mass / ``deposit_solids_kg_m3``.
"""

from __future__ import annotations

import numpy as np

from tankeco.hydraulics.analysis import Analyser
from tankeco.hydraulics.bed import clogged_porosity, deposit_volume_m3
from tankeco.hydraulics.solver import HydraulicsError
from tankeco.sim.petersen import COD_PER_VSS, C


class FilterBed:
    """Zone flows for the engine, from a solved layout or an even split."""

    def __init__(
        self,
        network,
        options,
        geometry,
        params: dict[str, float],
        porosity: float,
        nominal_flow_l_h: float,
        direction: str = "up",
    ):
        self.geo = geometry
        self.p = params
        self.clean_porosity = float(porosity)
        self.direction = direction
        self.nominal_flow_l_h = float(nominal_flow_l_h)
        n = len(geometry.zone_area_m2)
        self.zone_bed_volume_m3 = geometry.zone_area_m2 * geometry.bed_depth_m
        self.analyser = None if network is None else Analyser(network, n, options)
        self.porosity = np.full(n, self.clean_porosity)
        self.flow_l_h = self._solve(self.porosity)
        self.last_error: str | None = None

    @property
    def has_layout(self) -> bool:
        return self.analyser is not None

    def _solve(self, porosity: np.ndarray) -> np.ndarray:
        if self.analyser is None:
            n = len(porosity)
            return np.full(n, self.nominal_flow_l_h / n)
        return np.asarray(self.analyser.run(porosity).zone_flow_l_h, dtype=float)

    def solids_g(self, m: np.ndarray, inert_g: np.ndarray) -> np.ndarray:
        """Dry solids retained in each zone (g): inert + undecayed waste + biofilm."""
        organic_mg = m[1:, C.XS_COD] / COD_PER_VSS + m[1:, C.AOB] + m[1:, C.NOB]
        return inert_g + organic_mg / 1000.0

    def porosity_of(self, solids_g: np.ndarray) -> np.ndarray:
        deposit = deposit_volume_m3(solids_g / 1000.0, self.p["deposit_solids_kg_m3"])
        return clogged_porosity(self.clean_porosity, deposit, self.zone_bed_volume_m3)

    def update(self, m: np.ndarray, inert_g: np.ndarray) -> bool:
        """Re-solve with the zones' current clogging; True if the flows changed.

        A solve that does not converge from yesterday's flows is tried once more from a
        cold start; if that fails too, the flows stay as they were and the error is kept
        in :attr:`last_error` for the event log (a day's clogging moves them very little).
        """
        porosity = self.porosity_of(self.solids_g(m, inert_g))
        if self.analyser is None or np.max(np.abs(porosity - self.porosity)) < 1e-5:
            return False
        try:
            flows = self._solve(porosity)
        except HydraulicsError:
            self.analyser.forget()
            try:
                flows = self._solve(porosity)
            except HydraulicsError as exc:
                self.last_error = str(exc)
                return False
        self.porosity = porosity
        self.flow_l_h = flows
        self.last_error = None
        return True

    @property
    def total_flow_l_h(self) -> float:
        return float(self.flow_l_h.sum())

    @property
    def share(self) -> np.ndarray:
        total = self.flow_l_h.sum()
        n = len(self.flow_l_h)
        return self.flow_l_h / total if total > 0 else np.full(n, 1.0 / n)

    def deposition_share(self) -> np.ndarray:
        """Where waste lands: by area on top of an up-flow bed; with the water into a
        down-flow bed (the zones that pass more water catch more)."""
        area = self.geo.zone_area_m2 / self.geo.zone_area_m2.sum()
        if self.direction == "down" and self.flow_l_h.sum() > 0:
            return self.share
        return area
