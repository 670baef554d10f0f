"""Build the EPANET (wntr) twin of a friction-only network, for comparisons.

A hole becomes a 0.1 mm long pipe of the hole's bore with minor loss 1/Cd^2 into a
reservoir at head 0 (checked in wntr 1.5: emitters only work in EPANET, leaks only in the
WNTR simulator); a fixed-flow pump becomes a negative demand at its outlet.

EPANET's VISCOSITY option is relative to its internal base, 1.1e-5 ft^2/s
(``#define VISCOS 1.1E-5``, "kinematic viscosity of water @ 20 deg C (sq ft/sec)", in
EPANET 2.2's ``src/types.h``), i.e. 1.0219e-6 m^2/s, not to 1e-6 m^2/s.
"""

from __future__ import annotations

import numpy as np
import wntr

from tankeco.hydraulics.network import Network

HOLE_PIPE_LENGTH_M = 1e-4

#: EPANET's reference kinematic viscosity, 1.1e-5 ft^2/s in m^2/s
EPANET_VISCOSITY_BASE_M2_S = 1.1e-5 * 0.3048**2


def epanet_hole_flows_l_h(net: Network, headloss: str, workdir) -> np.ndarray:
    """Hole flows (L/h) computed by EPANET through wntr's EpanetSimulator."""
    wn = build(net, headloss)
    sim = wntr.sim.EpanetSimulator(wn)
    res = sim.run_sim(file_prefix=str(workdir / "twin"))
    flows = res.link["flowrate"].iloc[0]
    return np.array([flows[f"hole_{h.id}"] for h in net.holes]) * 3.6e6


def build(net: Network, headloss: str) -> wntr.network.WaterNetworkModel:
    c = net.compiled
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.headloss = "H-W" if headloss == "hazen-williams" else "D-W"
    wn.options.hydraulic.accuracy = 1e-6
    wn.options.hydraulic.trials = 500
    wn.options.hydraulic.viscosity = net.fluid.nu_m2_s / EPANET_VISCOSITY_BASE_M2_S
    wn.options.time.duration = 0
    for i, n in enumerate(net.nodes):
        demand = float(-c.demand_m3_s[i])
        wn.add_junction(
            n.name,
            base_demand=-demand if demand else 0.0,
            elevation=0.0,
            coordinates=(n.x_m, n.y_m),
        )
    wn.add_reservoir("tank", base_head=0.0)
    for k, p in enumerate(net.pipes):
        rough = p.hazen_williams_c if headloss == "hazen-williams" else p.roughness_m
        wn.add_pipe(
            f"pipe_{k}",
            p.start,
            p.end,
            length=float(c.length_m[k]),
            diameter=p.inner_diameter_m,
            roughness=rough,
            minor_loss=p.minor_k,
        )
    for h in net.holes:
        wn.add_pipe(
            f"hole_{h.id}",
            h.node,
            "tank",
            length=HOLE_PIPE_LENGTH_M,
            diameter=h.diameter_m,
            roughness=150.0 if headloss == "hazen-williams" else 1e-9,
            minor_loss=1.0 / h.cd**2,
        )
    return wn
