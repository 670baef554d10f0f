"""Compiled Newton iteration of the hydraulic solver (numba, cached on disk).

Why compiled: a 64-hole ladder has ~240 unknowns and a dozen fittings whose Crane
coefficients change with the flow split; evaluated element by element in Python a
Newton step cost ~2 ms.  Here one step (losses, exact Jacobian, sparse LU, line search)
costs tens of microseconds.  What is computed is defined in
:mod:`tankeco.hydraulics.solver` (the equations), :mod:`tankeco.hydraulics.losses` (pipe,
hole and pump laws) and :mod:`tankeco.hydraulics.fittings` (which fitting sits where);
this module only evaluates it:

* Darcy friction factors from Clamond's (2009) exact solution of Colebrook's equation,
  the algorithm of :func:`fluids.friction.Clamond` (tests check equality with
  :func:`fluids.friction_factor`);
* Crane's (2009) TP-410 tee coefficients in closed form, the branches of
  :func:`fluids.K_branch_diverging_Crane`, :func:`fluids.K_run_diverging_Crane`,
  :func:`fluids.K_branch_converging_Crane` and :func:`fluids.K_run_converging_Crane`
  (each a polynomial of the branch's share of the combined flow; tests check equality
  with fluids), with their exact derivatives, negative values credited as measured;
* side-port discharge on the local header velocity (Rawn, Bowerman & Brooks 1960), see
  :func:`port_head`;
* the Newton step's linear system by sparse LU with a static pivot order (minimum
  degree, links before the heads they feed), computed once per network in time and
  memory proportional to the non-zeros (no n x n array anywhere); a pivot that is
  numerically too small falls back to dense LU with partial pivoting for that step on
  small systems (``DENSE_FALLBACK_MAX`` unknowns) and to a slightly regularised sparse
  step on larger ones.

The arguments travel in named structures (:class:`Links`, :class:`Pipes`,
:class:`Holes`, :class:`Fits`, :class:`Pattern`, :class:`Stop`): NamedTuples of arrays
and scalars that numba compiles like positional arguments, so names cost no speed.
"""

from __future__ import annotations

import heapq
import math
from typing import NamedTuple

import numpy as np
from numba import njit

from tankeco.hydraulics.fittings import (
    PAIR_ANGLE,
    PAIR_BETA2,
    PAIR_COS,
    PAIR_F_BRANCH,
    PAIR_F_RUN,
    PAIR_VH,
)

G = 9.80665
RE_LAMINAR = 2000.0
RE_TURBULENT = 4000.0

# status codes of :func:`newton`
OK, NOT_CONVERGED, SINGULAR, NON_FINITE = 0, 1, 2, 3

# pump kinds of :class:`Links`
PUMP_POWER, PUMP_POINTS = 1, 2

# Crane leg kinds of :func:`crane_k`
BRANCH_DIVERGING, RUN_DIVERGING, BRANCH_CONVERGING, RUN_CONVERGING = 0, 1, 2, 3

#: systems up to this many unknowns fall back to dense LU when a static pivot is too small
DENSE_FALLBACK_MAX = 3000

#: smallest line-search step before the step is taken anyway (a way out of a stall)
STEP_MIN = 1.0 / 1024.0

#: Armijo's sufficient-decrease constant of the line search
ARMIJO = 1e-4


class Links(NamedTuple):
    """Topology and boundary conditions: links are pipes, then holes, then the pump."""

    n_links: int
    n_junctions: int
    n_pipes: int
    n_holes: int
    has_pump: bool
    pump_kind: int  # PUMP_POWER: H = a - b |Q|^c sign(Q); PUMP_POINTS: piecewise linear
    hazen_williams: bool
    nu_m2_s: float
    pump_a_m: float
    pump_b: float
    pump_c: float
    link_from: np.ndarray  # int64 node index (junctions, then tank, then source)
    link_to: np.ndarray
    fixed_head_m: np.ndarray  # heads of the tank and the pump's source
    demand_m3_s: np.ndarray  # per junction (the fixed-flow pump's injection is negative)
    pump_points: np.ndarray  # (n, 2): flow m3/s, head m


class Pipes(NamedTuple):
    """Per-pipe constants of the friction and minor-loss laws."""

    length_m: np.ndarray
    diameter_m: np.ndarray
    area_m2: np.ndarray
    rel_roughness: np.ndarray  # roughness / diameter
    laminar_r: np.ndarray  # 32 nu L / (g D^2 A): laminar head loss per unit flow
    f_turbulent_start: np.ndarray  # Colebrook f at RE_TURBULENT
    hw_r: np.ndarray  # Hazen-Williams resistance, m per (m3/s)^1.852
    minor_k: np.ndarray
    vh_coeff: np.ndarray  # 1 / (2 g A^2)


class Holes(NamedTuple):
    """Per-hole orifice and bed constants, and the header pipes each hole sees."""

    orifice_k: np.ndarray  # 1 / (2 g Cd0^2 a^2)
    bed_c1: np.ndarray  # bed loss c1 q + c2 q|q|
    bed_c2: np.ndarray
    cd_slope: float  # Cd = Cd0 (1 - cd_slope V^2/2gE); 0: constant Cd on the static head
    vref_hole: np.ndarray  # hole index j of each (hole, header pipe) pair
    vref_pipe: np.ndarray
    vref_weight: np.ndarray  # the hole's velocity head is sum(weight V_pipe^2/2g)


class Fits(NamedTuple):
    """Fitting losses of the momentum mode (see :mod:`tankeco.hydraulics.fittings`)."""

    fade: float  # share of the combined flow over which a leg's loss fades in
    fade_floor_m3_s: float  # ... but never over less than fade x this flow
    strength: float  # 1: Crane's losses; 0..1 along the solver's continuation path
    run_node: np.ndarray  # straight header junctions with holes
    run_a: np.ndarray
    run_b: np.ndarray
    run_beta2: np.ndarray  # (hole bore / header bore)^2 for Crane's run K
    two_a: np.ndarray  # elbows and reducers
    two_b: np.ndarray
    two_small: np.ndarray
    two_a_into: np.ndarray
    two_k_ab: np.ndarray
    two_k_ba: np.ndarray
    two_vh: np.ndarray
    tee_ptr: np.ndarray  # tees and crosses (fittings.TeeArrays)
    tee_leg: np.ndarray
    tee_pair_ptr: np.ndarray
    tee_pair: np.ndarray


class Pattern(NamedTuple):
    """The Newton matrix's filled sparsity pattern in pivot order, and its constants."""

    n: int
    perm: np.ndarray  # pivot position -> unknown
    inv: np.ndarray  # unknown -> pivot position
    row_ptr: np.ndarray
    col: np.ndarray  # sorted columns (pivot order) of each row
    diag: np.ndarray  # index of each row's diagonal in col
    const_pos: np.ndarray  # the +-1 entries of the incidence blocks
    const_val: np.ndarray


class Stop(NamedTuple):
    """Stopping rules of :func:`newton`."""

    max_iterations: int
    tol_head_m: float  # largest link-equation error, m
    tol_flow_rel: float  # largest junction imbalance, share of the hole flow
    tol_loose: float  # flow step that ends the friction-only start, share of the flow


# ---------------------------------------------------------------- correlations
@njit(cache=True)
def clamond(re, ed):
    """Darcy friction factor by Clamond's exact Colebrook solution (fluids, fast=False)."""
    x1 = ed * re * 0.1239681863354175460160858261654858382699
    x2 = math.log(re) - 0.7793974884556819406441139701653776731705
    f = x2 - 0.2
    x1f = x1 + f
    x1f1 = 1.0 + x1f
    e = (math.log(x1f) - 0.2) / x1f1
    f = f - (x1f1 + 0.5 * e) * e * x1f / (x1f1 + e * (1.0 + (1.0 / 3.0) * e))
    x1f = x1 + f
    x1f1 = 1.0 + x1f
    e = (math.log(x1f) + f - x2) / x1f1
    b = x1f1 + e * (1.0 + 1.0 / 3.0 * e)
    f = b / (b * f - ((x1f1 + 0.5 * e) * e * x1f))
    return 1.325474527619599502640416597148504422899 * (f * f)


@njit(cache=True)
def crane_k(kind, beta2, angle, f_interp, x):
    """(K, dK/dx) of a Crane tee leg; x = Q_branch / (Q_run + Q_branch).

    ``kind``: 0 branch diverging, 1 run diverging, 2 branch converging, 3 run
    converging; ``beta2`` = (D_branch / D_run)^2, ``angle`` in degrees (1..90),
    ``f_interp`` the angle factor F that fluids interpolates for the converging legs.
    """
    if kind == 0:
        if angle < 60.0 or math.sqrt(beta2) <= 2.0 / 3.0:
            hh, jj = 1.0, 2.0
        else:
            hh, jj = 0.3, 0.0
        if angle < 75.0:
            if beta2 <= 0.35:
                if x <= 0.4:
                    g, dg = 1.1 - 0.7 * x, -0.7
                else:
                    g, dg = 0.85, 0.0
            else:
                if x <= 0.6:
                    g, dg = 1.0 - 0.6 * x, -0.6
                else:
                    g, dg = 0.6, 0.0
        else:
            if beta2 <= 2.0 / 3.0:
                g, dg = 1.0, 0.0
            else:
                g, dg = 1.0 + 0.3 * x * x, 0.6 * x
        cs = math.cos(math.radians(angle))
        r = x / beta2
        p = 1.0 + hh * r * r - jj * r * cs
        dp = (2.0 * hh * r - jj * cs) / beta2
        return g * p, dg * p + g * dp
    if kind == 1:
        if beta2 <= 0.4:
            m, dm = 0.4, 0.0
        elif x <= 0.5:
            m, dm = 2.0 * (2.0 * x - 1.0), 4.0
        else:
            m, dm = 0.3 * (2.0 * x - 1.0), 0.6
        return m * x * x, dm * x * x + 2.0 * m * x
    if kind == 2:
        if beta2 <= 0.35:
            c, dc = 1.0, 0.0
        elif x <= 0.4:
            c, dc = 0.9 * (1.0 - x), -0.9
        else:
            c, dc = 0.55, 0.0
        r = x / beta2
        p = 1.0 + r * r - 2.0 * (1.0 - x) ** 2 - f_interp / beta2 * x * x
        dp = 2.0 * r / beta2 + 4.0 * (1.0 - x) - 2.0 * f_interp / beta2 * x
        return c * p, dc * p + c * dp
    if angle >= 75.0:
        return 1.55 * x - x * x, 1.55 - 2.0 * x
    k = 1.0 - (1.0 - x) ** 2 - f_interp / beta2 * x * x
    return k, 2.0 * (1.0 - x) - 2.0 * f_interp / beta2 * x


#: a tee's run must continue the combined stream within this turn (degrees), else
#: every leg is a branch (:func:`_tee_branches`): a bullhead tee's legs turn by 90
RUN_MAX_TURN_DEG = 60.0
RUN_MAX_COS = -math.cos(math.radians(RUN_MAX_TURN_DEG))

#: half-width, in branch share x, over which :func:`crane_k_smooth` blends Crane's pieces
CRANE_BLEND = 0.02


@njit(cache=True)
def _blend(x, x0, lo, dlo, hi, dhi):
    """``lo`` below ``x0 - CRANE_BLEND``, ``hi`` above ``x0 + CRANE_BLEND``, a C1 cubic
    (smoothstep) blend between; returns (value, d/dx)."""
    t = (x - x0 + CRANE_BLEND) / (2.0 * CRANE_BLEND)
    if t <= 0.0:
        return lo, dlo
    if t >= 1.0:
        return hi, dhi
    s = t * t * (3.0 - 2.0 * t)
    ds = 6.0 * t * (1.0 - t) / (2.0 * CRANE_BLEND)
    return (1.0 - s) * lo + s * hi, (1.0 - s) * dlo + s * dhi + ds * (hi - lo)


@njit(cache=True)
def crane_k_smooth(kind, beta2, angle, f_interp, x):
    """:func:`crane_k` with its steps and kinks in x blended over +-CRANE_BLEND.

    Crane's tables switch coefficient at a branch share of 0.4, 0.5 or 0.6, with steps
    of up to 0.04 in G or C (a jump of a few per cent of the velocity head) and a kink
    in the run's M: where a tee's operating point sits on such a step Newton's equations
    have no root.  Blended, K is continuously differentiable and equals Crane's (and
    fluids') more than CRANE_BLEND from each switch.
    """
    if kind == BRANCH_DIVERGING:
        if angle < 75.0:
            if angle < 60.0 or math.sqrt(beta2) <= 2.0 / 3.0:
                hh, jj = 1.0, 2.0
            else:
                hh, jj = 0.3, 0.0
            if beta2 <= 0.35:
                g, dg = _blend(x, 0.4, 1.1 - 0.7 * x, -0.7, 0.85, 0.0)
            else:
                g, dg = _blend(x, 0.6, 1.0 - 0.6 * x, -0.6, 0.6, 0.0)
            cs = math.cos(math.radians(angle))
            r = x / beta2
            p = 1.0 + hh * r * r - jj * r * cs
            dp = (2.0 * hh * r - jj * cs) / beta2
            return g * p, dg * p + g * dp
        return crane_k(kind, beta2, angle, f_interp, x)
    if kind == RUN_DIVERGING:
        if beta2 <= 0.4:
            return crane_k(kind, beta2, angle, f_interp, x)
        m, dm = _blend(x, 0.5, 2.0 * (2.0 * x - 1.0), 4.0, 0.3 * (2.0 * x - 1.0), 0.6)
        return m * x * x, dm * x * x + 2.0 * m * x
    if kind == BRANCH_CONVERGING:
        if beta2 <= 0.35:
            return crane_k(kind, beta2, angle, f_interp, x)
        c, dc = _blend(x, 0.4, 0.9 * (1.0 - x), -0.9, 0.55, 0.0)
        r = x / beta2
        p = 1.0 + r * r - 2.0 * (1.0 - x) ** 2 - f_interp / beta2 * x * x
        dp = 2.0 * r / beta2 + 4.0 * (1.0 - x) - 2.0 * f_interp / beta2 * x
        return c * p, dc * p + c * dp
    return crane_k(kind, beta2, angle, f_interp, x)


# ---------------------------------------------------------------- structure
@njit(cache=True)
def _csr(n, rows, cols):
    """Symmetrised, de-duplicated adjacency (no diagonal) of the pattern, as CSR."""
    count = np.zeros(n + 1, dtype=np.int64)
    for e in range(rows.size):
        if rows[e] != cols[e]:
            count[rows[e] + 1] += 1
            count[cols[e] + 1] += 1
    ptr = np.cumsum(count)
    nb = np.empty(ptr[n], dtype=np.int64)
    fill = ptr[:-1].copy()
    for e in range(rows.size):
        a, b = rows[e], cols[e]
        if a != b:
            nb[fill[a]] = b
            fill[a] += 1
            nb[fill[b]] = a
            fill[b] += 1
    # sort and de-duplicate each row
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    out = np.empty(ptr[n], dtype=np.int64)
    k = 0
    for i in range(n):
        row = np.sort(nb[ptr[i] : ptr[i + 1]])
        last = -1
        for v in row:
            if v != last:
                out[k] = v
                k += 1
                last = v
        out_ptr[i + 1] = k
    return out_ptr, out[:k]


@njit(cache=True)
def symbolic(n, n_links, rows, cols):
    """Static pivot order and filled pattern of the Newton matrix.

    Greedy minimum degree on the (symmetrised) pattern, a junction's head being eligible
    only once every link meeting at the junction is eliminated (the head rows have a
    zero diagonal; eliminated this way the heads' pivots are those of EPANET's
    positive-definite head matrix, plus the momentum couplings).  Ties go to the lowest
    index.  The graph is kept as growing neighbour lists and the candidates in a heap,
    so time and memory grow with the non-zeros of the factor, not with n^2.  Returns
    (perm, inv, row_ptr, col, diag) of the filled matrix in pivot order, columns sorted.
    """
    ptr0, nb0 = _csr(n, rows, cols)
    # growing neighbour lists: nbr[i, :deg[i]] in a (n, cap) table, doubled when full
    cap = 4
    for i in range(n):
        cap = max(cap, ptr0[i + 1] - ptr0[i])
    cap = 2 * cap
    nbr = np.empty((n, cap), dtype=np.int64)
    deg = np.zeros(n, dtype=np.int64)
    for i in range(n):
        d = ptr0[i + 1] - ptr0[i]
        nbr[i, :d] = nb0[ptr0[i] : ptr0[i + 1]]
        deg[i] = d
    links_left = np.zeros(n, dtype=np.int64)
    for i in range(n_links, n):
        for idx in range(ptr0[i], ptr0[i + 1]):
            if nb0[idx] < n_links:
                links_left[i] += 1
    done = np.zeros(n, dtype=np.bool_)
    mark = np.full(n, -1, dtype=np.int64)
    heap = [(deg[0], 0)]
    heap.pop()
    for i in range(n):
        if links_left[i] == 0:
            heap.append((deg[i], i))
    heapq.heapify(heap)
    perm = np.empty(n, dtype=np.int64)
    # the factor's off-diagonal pattern: for pivot step s, its later neighbours
    up_ptr = np.zeros(n + 1, dtype=np.int64)
    up = np.empty(max(4 * n, 16), dtype=np.int64)
    m_buf = np.empty(n, dtype=np.int64)
    for step in range(n):
        p = -1
        while len(heap) > 0:
            d, i = heapq.heappop(heap)
            if not done[i] and links_left[i] == 0 and d == deg[i]:
                p = i
                break
        if p < 0:  # nothing eligible (cannot happen for a connected network)
            for i in range(n):
                if not done[i]:
                    p = i
                    break
        perm[step] = p
        done[p] = True
        m = deg[p]
        for a in range(m):
            m_buf[a] = nbr[p, a]
        # record the factor's pattern
        need = up_ptr[step] + m
        if need > up.size:
            grown = np.empty(max(2 * up.size, need), dtype=np.int64)
            grown[: up_ptr[step]] = up[: up_ptr[step]]
            up = grown
        up[up_ptr[step] : need] = m_buf[:m]
        up_ptr[step + 1] = need
        if p < n_links:
            for idx in range(ptr0[p], ptr0[p + 1]):
                h = nb0[idx]
                if h >= n_links and not done[h]:
                    links_left[h] -= 1
                    if links_left[h] == 0:
                        heapq.heappush(heap, (deg[h], h))
        # drop p from its neighbours, then join the neighbours pairwise (fill)
        for a in range(m):
            u = m_buf[a]
            for b in range(deg[u]):
                if nbr[u, b] == p:
                    deg[u] -= 1
                    nbr[u, b] = nbr[u, deg[u]]
                    break
        for a in range(m):
            u = m_buf[a]
            for b in range(deg[u]):
                mark[nbr[u, b]] = u
            for b in range(m):
                v = m_buf[b]
                if v != u and mark[v] != u:
                    if deg[u] == nbr.shape[1]:
                        wider = np.empty((n, 2 * nbr.shape[1]), dtype=np.int64)
                        wider[:, : nbr.shape[1]] = nbr
                        nbr = wider
                    nbr[u, deg[u]] = v
                    deg[u] += 1
                    mark[v] = u
        for a in range(m):
            u = m_buf[a]
            if links_left[u] == 0:
                heapq.heappush(heap, (deg[u], u))
    inv = np.empty(n, dtype=np.int64)
    for i in range(n):
        inv[perm[i]] = i
    # symmetric filled pattern in pivot order: row i holds i and every j joined to it
    count = np.ones(n + 1, dtype=np.int64)
    count[n] = 0
    for s in range(n):
        for idx in range(up_ptr[s], up_ptr[s + 1]):
            count[inv[up[idx]]] += 1
        count[s] += up_ptr[s + 1] - up_ptr[s]
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        row_ptr[i + 1] = row_ptr[i] + count[i]
    col = np.empty(row_ptr[n], dtype=np.int64)
    fill = row_ptr[:-1].copy()
    for s in range(n):
        col[fill[s]] = s
        fill[s] += 1
        for idx in range(up_ptr[s], up_ptr[s + 1]):
            j = inv[up[idx]]
            col[fill[s]] = j
            fill[s] += 1
            col[fill[j]] = s
            fill[j] += 1
    diag = np.empty(n, dtype=np.int64)
    for i in range(n):
        col[row_ptr[i] : row_ptr[i + 1]] = np.sort(col[row_ptr[i] : row_ptr[i + 1]])
        for idx in range(row_ptr[i], row_ptr[i + 1]):
            if col[idx] == i:
                diag[i] = idx
    return perm, inv, row_ptr, col, diag


@njit(cache=True)
def _at(pat, r, c):
    """Index into the filled matrix's values of entry (r, c) of the original ordering."""
    ri, ci = pat.inv[r], pat.inv[c]
    lo, hi = pat.row_ptr[ri], pat.row_ptr[ri + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if pat.col[mid] < ci:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def positions(inv, row_ptr, col, rows, cols):
    """Index into the filled matrix of each (row, col) of the original ordering."""
    out = np.empty(rows.size, dtype=np.int64)
    for e in range(rows.size):
        r, c = inv[rows[e]], inv[cols[e]]
        lo, hi = row_ptr[r], row_ptr[r + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            if col[mid] < c:
                lo = mid + 1
            else:
                hi = mid
        out[e] = lo
    return out


# ---------------------------------------------------------------- linear algebra
@njit(cache=True)
def _lu_solve(a, row_ptr, col, diag, b, w):
    """Factor ``a`` in place (static pivots) and solve; False if a pivot is too small."""
    n = diag.size
    for i in range(n):
        lo, hi = row_ptr[i], row_ptr[i + 1]
        scale = 0.0
        for idx in range(lo, hi):
            w[col[idx]] = a[idx]
            scale = max(scale, abs(a[idx]))
        for idx in range(lo, diag[i]):
            k = col[idx]
            lik = w[k] / a[diag[k]]
            w[k] = lik
            if lik != 0.0:
                for idx2 in range(diag[k] + 1, row_ptr[k + 1]):
                    w[col[idx2]] -= lik * a[idx2]
        for idx in range(lo, hi):
            a[idx] = w[col[idx]]
        piv = a[diag[i]]
        if not (abs(piv) > 1e-13 * scale) or not math.isfinite(piv):
            return False
    for i in range(n):
        s = b[i]
        for idx in range(row_ptr[i], diag[i]):
            s -= a[idx] * b[col[idx]]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for idx in range(diag[i] + 1, row_ptr[i + 1]):
            s -= a[idx] * b[col[idx]]
        b[i] = s / a[diag[i]]
    return True


@njit(cache=True)
def _dense_solve(a, row_ptr, col, b):
    """Gaussian elimination with partial pivoting (fallback); False if singular."""
    n = b.size
    m = np.zeros((n, n))
    for i in range(n):
        for idx in range(row_ptr[i], row_ptr[i + 1]):
            m[i, col[idx]] = a[idx]
    for c in range(n):
        p = c
        best = abs(m[c, c])
        for r in range(c + 1, n):
            if abs(m[r, c]) > best:
                best, p = abs(m[r, c]), r
        if not best > 0.0:
            return False
        if p != c:
            for k in range(n):
                m[c, k], m[p, k] = m[p, k], m[c, k]
            b[c], b[p] = b[p], b[c]
        for r in range(c + 1, n):
            f = m[r, c] / m[c, c]
            if f != 0.0:
                for k in range(c, n):
                    m[r, k] -= f * m[c, k]
                b[r] -= f * b[c]
    for i in range(n - 1, -1, -1):
        s = b[i]
        for k in range(i + 1, n):
            s -= m[i, k] * b[k]
        b[i] = s / m[i, i]
    return True


# ---------------------------------------------------------------- physics
@njit(cache=True)
def _add(vals, pat, r, c, v):
    vals[_at(pat, r, c)] -= v  # F = dH - loss: the matrix holds -d(loss)/dQ


@njit(cache=True)
def port_head(k0, vh, slope):
    """(E, dE/dK0, dE/dvh): total head a side port needs, Rawn et al.'s discharge law.

    Rawn, Bowerman & Brooks (1960) measured a sharp-edged port in a manifold discharging
    ``q = Cd a sqrt(2 g E)`` on the total head E inside the pipe (over the head outside),
    with ``Cd = 0.63 - 0.58 V^2/(2 g E)``, V the header velocity just upstream.  Scaled
    to a hole's own Cd0 that is ``Cd = Cd0 (1 - s vh/E)``, s = 0.58/0.63, vh = V^2/2g.
    With ``K0 = q^2 / (2 g Cd0^2 a^2)`` the law reads ``(E - s vh)^2 = K0 E``, whose root
    with Cd > 0 is ``E = (K0 + 2 s vh + sqrt(K0^2 + 4 s vh K0)) / 2``: K0 with no header
    velocity, K0 + 2 s vh (about 1.84 vh) when the port flow dominates, s vh at q = 0.
    """
    d = math.sqrt(k0 * k0 + 4.0 * slope * vh * k0)
    e = 0.5 * (k0 + 2.0 * slope * vh + d)
    if d > 0.0:
        de_dk0 = 0.5 * (1.0 + (k0 + 2.0 * slope * vh) / d)
        de_dvh = slope * (1.0 + k0 / d)
    else:
        de_dk0 = 1.0
        de_dvh = slope
    return e, de_dk0, de_dvh


@njit(cache=True)
def residual(x, want_jac, momentum, links, pipes, holes, fits, pat, vals, out):
    """Residual [F; G] at ``x`` = [Q; H] into ``out``; the Jacobian into ``vals``."""
    nl, nj, n_p, n_h = links.n_links, links.n_junctions, links.n_pipes, links.n_holes
    nu = links.nu_m2_s
    loss = out[:nl]
    loss[:] = 0.0
    if want_jac:
        vals[:] = 0.0
        for e in range(pat.const_pos.size):
            vals[pat.const_pos[e]] += pat.const_val[e]
    # pipes: friction and constant minor losses
    for k in range(n_p):
        q = x[k]
        aq = abs(q)
        r_lam = pipes.laminar_r[k]
        if links.hazen_williams:
            hw_r = pipes.hw_r[k]
            h = hw_r * aq**1.852 * np.sign(q)
            dh = max(1.852 * hw_r * aq**0.852, hw_r * 1e-6**0.852)
        else:
            area, d = pipes.area_m2[k], pipes.diameter_m[k]
            v = q / area
            re = abs(v) * d / nu
            if re < RE_LAMINAR:
                h = r_lam * q
                dh = r_lam
            else:
                if re < RE_TURBULENT:
                    f_lam_end = 64.0 / RE_LAMINAR
                    slope = (pipes.f_turbulent_start[k] - f_lam_end) / (RE_TURBULENT - RE_LAMINAR)
                    f = f_lam_end + slope * (re - RE_LAMINAR)
                    dlnf = slope * re / f
                else:
                    ed = pipes.rel_roughness[k]
                    f = clamond(re, ed)
                    c_re = 2.51 / re
                    s = 2.0 / math.log(10.0) * c_re / (ed / 3.7 + c_re / math.sqrt(f))
                    dlnf = -2.0 * s / (1.0 + s)
                h = f * pipes.length_m[k] / d * v * abs(v) / (2 * G)
                dh = max((2.0 + dlnf) * h / q, r_lam)
        minor = pipes.minor_k[k] * pipes.vh_coeff[k]
        h += minor * q * aq
        dh += 2 * minor * aq
        loss[k] = h
        if want_jac:
            vals[pat.diag[pat.inv[k]]] -= dh
    # holes: the port (orifice) and the bed over it
    vh_hole = np.zeros(n_h)
    de_dvh = np.zeros(n_h)
    if momentum:
        for e in range(holes.vref_hole.size):
            p = holes.vref_pipe[e]
            vh_hole[holes.vref_hole[e]] += holes.vref_weight[e] * pipes.vh_coeff[p] * x[p] * x[p]
    rawn = momentum and holes.cd_slope > 0.0
    for j in range(n_h):
        k = n_p + j
        q = x[k]
        aq = abs(q)
        kh = holes.orifice_k[j]
        c1, c2 = holes.bed_c1[j], holes.bed_c2[j]
        bed = c1 * q + c2 * q * aq
        dbed = c1 + 2 * c2 * aq
        if rawn:
            # E(|q|) reflected through q = 0, so the law stays smooth for a reversed hole
            e, de_dk0, dv = port_head(kh * q * q, vh_hole[j], holes.cd_slope)
            e0 = holes.cd_slope * vh_hole[j]
            sq = 1.0 if q >= 0.0 else -1.0
            loss[k] = e0 + sq * (e - e0) + bed
            if de_dk0 * aq > 0.0:
                dport = de_dk0 * 2 * kh * aq
            else:  # the limit at q = 0: sqrt(s vh kh)
                dport = max(math.sqrt(holes.cd_slope * vh_hole[j] * kh), 2 * kh * 1e-12)
            de_dvh[j] = dv if q >= 0.0 else 2.0 * holes.cd_slope - dv
        else:
            # constant Cd on the static head H - V^2/2g
            loss[k] = kh * q * aq + vh_hole[j] + bed
            dport = 2 * kh * max(aq, 1e-12)
            de_dvh[j] = 1.0
        if want_jac:
            vals[pat.diag[pat.inv[k]]] -= dport + dbed
    if want_jac and momentum:
        for e in range(holes.vref_hole.size):
            j, p = holes.vref_hole[e], holes.vref_pipe[e]
            c = holes.vref_weight[e] * pipes.vh_coeff[p]
            _add(vals, pat, n_p + j, p, de_dvh[j] * 2 * c * x[p])
    # pump: a head gain
    if links.has_pump:
        k = nl - 1
        q = x[k]
        if links.pump_kind == PUMP_POINTS:
            pts = links.pump_points
            npt = pts.shape[0]
            i = 0
            while i < npt and pts[i, 0] < q:
                i += 1
            i = min(max(i - 1, 0), npt - 2)
            slope = (pts[i + 1, 1] - pts[i, 1]) / (pts[i + 1, 0] - pts[i, 0])
            g, dg = pts[i, 1] + slope * (q - pts[i, 0]), slope
        else:
            aq = abs(q)
            a, b, c = links.pump_a_m, links.pump_b, links.pump_c
            if aq == 0.0:
                g = a
                dg = -b if c == 1.0 else 0.0
            else:
                g = a - b * aq**c * np.sign(q)
                dg = -b * c * aq ** (c - 1.0)
        loss[k] = -g
        if want_jac:
            vals[pat.diag[pat.inv[k]]] += dg
    if momentum:
        _momentum(x, want_jac, links, pipes, fits, pat, vals, loss)
    # link equations F = H_from - H_to - loss, junction equations G = in - out - demand
    for k in range(nl):
        a, b = links.link_from[k], links.link_to[k]
        ha = x[nl + a] if a < nj else links.fixed_head_m[a - nj]
        hb = x[nl + b] if b < nj else links.fixed_head_m[b - nj]
        out[k] = ha - hb - loss[k]
    g_out = out[nl:]
    for i in range(nj):
        g_out[i] = -links.demand_m3_s[i]
    for k in range(nl):
        a, b = links.link_from[k], links.link_to[k]
        if b < nj:
            g_out[b] += x[k]
        if a < nj:
            g_out[a] -= x[k]


@njit(cache=True)
def _momentum(x, want_jac, links, pipes, fits, pat, vals, loss):
    """Fitting losses: header runs at holes, elbows and reducers, tees and crosses."""
    fade = fits.fade
    # straight header junctions with holes: Crane's run loss of a dividing tee
    for e in range(fits.run_node.size):
        node, pa, pb = fits.run_node[e], fits.run_a[e], fits.run_b[e]
        qa, qb = x[pa], x[pb]
        into_a = qa if links.link_to[pa] == node else -qa
        into_b = qb if links.link_to[pb] == node else -qb
        if into_a > 0 and into_b < 0:
            comb, out = pa, pb
        elif into_b > 0 and into_a < 0:
            comb, out = pb, pa
        else:
            continue
        q_comb = abs(x[comb])
        q_out = abs(x[out])
        if q_comb <= 1e-30:
            continue
        # the holes' share of the combined flow, Crane's run K at that share
        share = max(1.0 - q_out / q_comb, 0.0)
        # np.int64: the bare constant would be a literal, and numba would compile a second
        # copy of crane_k_smooth for it next to the one _tee_local's int64 kind uses
        kind = np.int64(RUN_DIVERGING)
        k, dk = crane_k_smooth(kind, fits.run_beta2[e], 90.0, 0.0, share)
        vq2 = fits.strength * pipes.vh_coeff[comb] * q_comb * q_comb
        # the loss fades in over the first few per cent of the combined flow, as a tee
        # leg's does, instead of jumping in at zero flow (a dead end or a stagnation
        # point between two feeds, whose flow Newton only ever approaches)
        # faded in by tanh(u)|tanh(u)|, u = the outgoing leg's flow over the scale: zero
        # with zero slope where that leg stops (beyond it the junction combines and
        # has no run loss), so the loss is continuously differentiable there; a kink
        # at a dead end's zero flow made Newton converge linearly on such roots
        floored = q_comb < fits.fade_floor_m3_s
        scale = fade * max(q_comb, fits.fade_floor_m3_s)
        th = math.tanh(x[out] / scale)
        fd = th * abs(th)
        loss[out] += fd * k * vq2
        if want_jac:
            s_out, s_comb = np.sign(x[out]), np.sign(x[comb])
            dfd = 2.0 * abs(th) * (1.0 - th * th)  # d fd / d(x_out / scale)
            dshare_dcomb = q_out / (q_comb * q_comb) if share > 0.0 else 0.0
            dshare_dout = -1.0 / q_comb if share > 0.0 else 0.0
            d_comb = fd * (dk * dshare_dcomb * vq2 + k * 2 * vq2 / q_comb)
            if not floored:
                d_comb -= dfd * x[out] / (scale * q_comb) * k * vq2
            _add(vals, pat, out, comb, d_comb * s_comb)
            d_out = fd * dk * dshare_dout * vq2 * s_out + dfd / scale * k * vq2
            _add(vals, pat, out, out, d_out)
    # elbows and reducers
    for e in range(fits.two_a.size):
        a, b, small = fits.two_a[e], fits.two_b[e], fits.two_small[e]
        if x[a] * fits.two_a_into[e] >= 0:
            out, k = b, fits.two_k_ab[e]
        else:
            out, k = a, fits.two_k_ba[e]
        vh = fits.strength * fits.two_vh[e]
        qs = x[small]
        q_in = abs(x[b if out == a else a])
        scale = fade * max(q_in, fits.fade_floor_m3_s)
        th = math.tanh(x[out] / scale)  # 1 unless holes at the fitting take nearly all
        loss[out] += th * k * vh * qs * qs
        if want_jac:
            _add(vals, pat, out, small, th * 2 * k * vh * qs)
            _add(vals, pat, out, out, (1.0 - th * th) / scale * k * vh * qs * qs)
    # tees and crosses
    for t in range(fits.tee_ptr.size - 1):
        _tee(x, want_jac, fits, t, pat, vals, loss)


@njit(cache=True)
def _tee(x, want_jac, fits, t, pat, vals, loss):
    """Crane's losses of one tee or cross, blended smoothly across a change of pattern.

    A tee's pattern (which legs flow in, which out) switches when its smallest leg's
    flow passes through zero.  Both patterns are evaluated with that leg taken once as
    flowing out and once as flowing in, and blended with ``s = (1 + tanh(u / (fade
    Q_max))) / 2``, u the leg's outward flow: Crane's for the actual pattern wherever
    the leg carries more than a few per cent of the largest flow, smooth in between.
    Because negative coefficients are credited, both patterns give a shut branch nearly
    the same head (the static head of the main stream: Crane's diverging branch K at zero
    share is G = 1.0-1.1, the converging one -C = -0.9 to -1.0), so the blend bridges a
    difference of at most 0.15 velocity heads instead of forcing the loss through zero.
    A shut leg that is the dividing pattern's run but the combining pattern's branch (a
    header running on past a ladder's last rung) can differ by a few velocity heads; the
    blend then has a negative slope, and the solver restarts on each side of it
    (:meth:`tankeco.hydraulics.solver.Solver._either_side_of_reversals`).
    """
    fade = fits.fade
    tee_leg = fits.tee_leg
    l0 = fits.tee_ptr[t]
    nleg = fits.tee_ptr[t + 1] - l0
    qs = np.empty(nleg)
    dirs = np.empty(nleg)
    q_max = 0.0
    z, m = 0, 0
    for i in range(nleg):
        qs[i] = x[tee_leg[l0 + i, 0]]
        dirs[i] = 1.0 if tee_leg[l0 + i, 1] * qs[i] > 0 else -1.0
        if abs(qs[i]) < abs(qs[z]):
            z = i
        if abs(qs[i]) > abs(qs[m]):
            m = i
        q_max = max(q_max, abs(qs[i]))
    if q_max == 0.0:
        return
    p0 = fits.tee_pair_ptr[t]
    floor = fits.fade_floor_m3_s
    scale = fade * max(q_max, floor)
    lc = np.zeros(nleg)
    jc = np.zeros((nleg, nleg))
    _tee_blend(qs, dirs, fits, l0, nleg, p0, z, m, scale, q_max, lc, jc)
    # two legs tied for smallest (a symmetric split): which one is blended must not
    # jump as their order swaps, so the two choices are mixed with a weight that is
    # 1/2 at the tie and tends to the smaller one's over a fade scale of difference
    z2 = -1
    for i in range(nleg):
        if i != z and (z2 < 0 or abs(qs[i]) < abs(qs[z2])):
            z2 = i
    d = (abs(qs[z2]) - abs(qs[z])) / scale
    if abs(qs[z2]) / scale < 12.0 and d < 12.0:
        lc2 = np.zeros(nleg)
        jc2 = np.zeros((nleg, nleg))
        _tee_blend(qs, dirs, fits, l0, nleg, p0, z2, m, scale, q_max, lc2, jc2)
        th = math.tanh(d)
        w = 0.5 * (1.0 + th)
        dw = 0.5 * (1.0 - th * th)  # dw / dd
        dd_dm = -d / q_max * np.sign(qs[m]) if q_max > floor else 0.0
        for i in range(nleg):
            diff = lc[i] - lc2[i]
            for j in range(nleg):
                jc[i, j] = w * jc[i, j] + (1.0 - w) * jc2[i, j]
            jc[i, z2] += dw * np.sign(qs[z2]) / scale * diff
            jc[i, z] -= dw * np.sign(qs[z]) / scale * diff
            jc[i, m] += dw * dd_dm * diff
            lc[i] = w * lc[i] + (1.0 - w) * lc2[i]
    for i in range(nleg):
        pi = tee_leg[l0 + i, 0]
        loss[pi] += lc[i]
        if want_jac:
            for j in range(nleg):
                if jc[i, j] != 0.0:
                    _add(vals, pat, pi, tee_leg[l0 + j, 0], jc[i, j])


@njit(cache=True)
def _tee_blend(qs, dirs_actual, fits, l0, nleg, p0, z, m, scale, q_max, lc, jc):
    """A tee's losses with leg z's two patterns blended around its reversal (:func:`_tee`)."""
    tee_leg = fits.tee_leg
    floor = fits.fade_floor_m3_s
    dirs = dirs_actual.copy()
    u = -tee_leg[l0 + z, 1] * qs[z]  # leg z's outward flow
    arg = u / scale
    if arg > 12.0 or arg < -12.0:
        _tee_local(qs, dirs, fits.strength, l0, nleg, tee_leg, p0, fits.tee_pair, lc, jc)
        return
    th = math.tanh(arg)
    sw = 0.5 * (1.0 + th)
    dirs[z] = -1.0
    lo = np.zeros(nleg)
    jo = np.zeros((nleg, nleg))
    _tee_local(qs, dirs, fits.strength, l0, nleg, tee_leg, p0, fits.tee_pair, lo, jo)
    dirs[z] = 1.0
    li = np.zeros(nleg)
    ji = np.zeros((nleg, nleg))
    _tee_local(qs, dirs, fits.strength, l0, nleg, tee_leg, p0, fits.tee_pair, li, ji)
    dsw = 0.5 * (1.0 - th * th)
    dsw_dz = dsw / scale * (-tee_leg[l0 + z, 1])
    dsw_dm = 0.0
    if q_max > floor:
        dsw_dm = -dsw * arg / max(q_max, floor) * np.sign(qs[m])
    for i in range(nleg):
        diff = lo[i] - li[i]
        for j in range(nleg):
            jc[i, j] = sw * jo[i, j] + (1.0 - sw) * ji[i, j]
        jc[i, z] += dsw_dz * diff
        jc[i, m] += dsw_dm * diff
        lc[i] = sw * lo[i] + (1.0 - sw) * li[i]


@njit(cache=True)
def _tee_local(qs, dirs, strength, l0, nleg, tee_leg, p0, tee_pair, out, jac):
    """Crane's loss charged to each leg for the pattern ``dirs`` (+1 in, -1 out), and d/dQ.

    The combined-stream convention (see fittings): each leg on the side of the single
    stream-carrying leg's opposite is charged ``K V_comb^2/2g`` in its flow direction.
    Negative coefficients (a run's pressure regain, the ejector effect on a small
    combining branch) are credited as Crane's total-pressure measurements give them.
    Shares use the legs' flow magnitudes, so a pattern may be evaluated for a leg whose
    flow has (just) the other sign; the loss's sign follows the pattern, not the flow.
    """
    n_in = 0
    comb_in, comb_out = -1, -1
    for i in range(nleg):
        if dirs[i] > 0:
            n_in += 1
            comb_in = i
        else:
            comb_out = i
    n_out = nleg - n_in
    if n_in == 1 and n_out >= 2:
        diverging, comb = True, comb_in
    elif n_out == 1 and n_in >= 2:
        diverging, comb = False, comb_out
    else:
        return
    # the run: of the other legs, the one most nearly opposite the combined leg, if it
    # continues the stream within RUN_MAX_TURN_DEG (ties between legs that do go to the
    # first: a ring fed at its corner, both ring pipes 45 degrees off the supply)
    run, run_cos = -1, 2.0
    for i in range(nleg):
        if i == comb or (dirs[i] > 0) == diverging:
            continue
        cs = tee_pair[p0 + comb * nleg + i, PAIR_COS]
        if cs < run_cos:
            run, run_cos = i, cs
    if run_cos > RUN_MAX_COS:
        _tee_branches(qs, dirs, strength, l0, nleg, tee_leg, p0, tee_pair, out, jac, comb,
                      diverging)  # fmt: skip
        return
    first_other = -1
    for i in range(nleg):
        if i == comb or i == run or (dirs[i] > 0) == diverging:
            continue
        first_other = i
        break
    vh = strength * tee_pair[p0 + comb * nleg + comb, PAIR_VH]
    vq2 = vh * qs[comb] * qs[comb]
    dvq2 = 2 * vh * qs[comb]
    q_run = abs(qs[run])
    for o in range(nleg):
        if o == comb or (dirs[o] > 0) == diverging:
            continue
        br = o if o != run else first_other
        q_br = abs(qs[br])
        total = q_run + q_br
        pair = p0 + comb * nleg + br
        if total > 0.0:
            if diverging:
                kind = BRANCH_DIVERGING if o != run else RUN_DIVERGING
            else:
                kind = BRANCH_CONVERGING if o != run else RUN_CONVERGING
            f_angle = tee_pair[pair, PAIR_F_BRANCH if kind == BRANCH_CONVERGING else PAIR_F_RUN]
            k, dk = crane_k_smooth(
                kind, tee_pair[pair, PAIR_BETA2], tee_pair[pair, PAIR_ANGLE], f_angle, q_br / total
            )
        else:
            k, dk = 0.0, 0.0
        # the loss in the leg's flow direction, written in its link's orientation
        sgn = dirs[o] * tee_leg[l0 + o, 1]
        out[o] = k * vq2 * sgn
        # d/dQ of Q_branch / (Q_run + Q_branch) through |Q_run| and |Q_branch|
        if total > 0.0:
            kv = dk * vq2 * sgn / (total * total)
            jac[o, br] += kv * q_run * np.sign(qs[br])
            jac[o, run] -= kv * q_br * np.sign(qs[run])
        jac[o, comb] += k * dvq2 * sgn


@njit(cache=True)
def _tee_branches(qs, dirs, strength, l0, nleg, tee_leg, p0, tee_pair, out, jac, comb,
                  diverging):  # fmt: skip
    """A tee without a run (:func:`_tee_local`): every other leg is a branch.

    Crane's tables are for a straight-through run with a branch at an angle.  Where no
    leg continues the combined stream within RUN_MAX_TURN_DEG (a bullhead tee whose
    stream splits both ways at 90 degrees, or two streams meeting head-on), calling one
    of them the run made the model's split depend on the legs' order, not on the
    geometry (the shipped centre-fed tree's first split came out 540/424 L/h, its mirror
    holes 25 % apart).  Each leg is then taken as Crane's branch at its own angle, with
    the share x = |Q_leg| / sum of |Q| on its side: symmetric legs get symmetric losses.
    """
    vh = strength * tee_pair[p0 + comb * nleg + comb, PAIR_VH]
    vq2 = vh * qs[comb] * qs[comb]
    dvq2 = 2 * vh * qs[comb]
    total = 0.0
    for i in range(nleg):
        if i != comb and (dirs[i] > 0) != diverging:
            total += abs(qs[i])
    kind = BRANCH_DIVERGING if diverging else BRANCH_CONVERGING
    for o in range(nleg):
        if o == comb or (dirs[o] > 0) == diverging:
            continue
        pair = p0 + comb * nleg + o
        sgn = dirs[o] * tee_leg[l0 + o, 1]
        if total > 0.0:
            q_o = abs(qs[o])
            k, dk = crane_k_smooth(
                kind, tee_pair[pair, PAIR_BETA2], tee_pair[pair, PAIR_ANGLE],
                tee_pair[pair, PAIR_F_BRANCH], q_o / total,
            )  # fmt: skip
            kv = dk * vq2 * sgn / (total * total)
            for j in range(nleg):
                if j == comb or (dirs[j] > 0) == diverging:
                    continue
                # d(q_o / total)/d|q_j|: (total - q_o) for j = o, -q_o otherwise
                dj = (total - q_o) if j == o else -q_o
                jac[o, j] += kv * dj * np.sign(qs[j])
        else:
            k = 0.0
        out[o] = k * vq2 * sgn
        jac[o, comb] += k * dvq2 * sgn


# ---------------------------------------------------------------- Newton
@njit(cache=True)
def _merit(r, nl, q_scale):
    """Sum of squares of the link errors (m) and the junction errors per unit flow."""
    s = 0.0
    for i in range(nl):
        s += r[i] * r[i]
    t = 0.0
    for i in range(nl, r.size):
        t += r[i] * r[i]
    return s + t / (q_scale * q_scale)


@njit(cache=True)
def _q_scale(x, links):
    s = 0.0
    for i in range(links.n_pipes, links.n_pipes + links.n_holes):
        s += abs(x[i])
    return max(s, 1e-9)


@njit(cache=True)
def _errors(r, nl):
    fmax = 0.0
    for i in range(nl):
        fmax = max(fmax, abs(r[i]))
    gmax = 0.0
    for i in range(nl, r.size):
        gmax = max(gmax, abs(r[i]))
    return fmax, gmax


@njit(cache=True)
def _direction(vals, work, r, pat, rhs, w, dx, n_links):
    """Newton's direction dx from J dx = -r; False if the matrix is singular."""
    n = r.size
    for i in range(n):
        rhs[i] = -r[pat.perm[i]]
    work[:] = vals
    ok = _lu_solve(work, pat.row_ptr, pat.col, pat.diag, rhs, w)
    if not ok and n <= DENSE_FALLBACK_MAX:
        for i in range(n):
            rhs[i] = -r[pat.perm[i]]
        ok = _dense_solve(vals, pat.row_ptr, pat.col, rhs)
    if not ok:
        # a link whose loss is (nearly) flat in its flow: stiffen every link diagonal by
        # a millionth of the largest, a Levenberg-Marquardt step in the flows
        big = 0.0
        for k in range(n_links):
            big = max(big, abs(vals[pat.diag[pat.inv[k]]]))
        work[:] = vals
        for k in range(n_links):
            work[pat.diag[pat.inv[k]]] -= 1e-6 * big
        for i in range(n):
            rhs[i] = -r[pat.perm[i]]
        ok = _lu_solve(work, pat.row_ptr, pat.col, pat.diag, rhs, w)
    if not ok:
        return False
    for i in range(n):
        dx[pat.perm[i]] = rhs[i]
    return True


@njit(cache=True)
def newton(x, momentum, friction_start, stop, links, pipes, holes, fits, pat):
    """Globalised Newton on ``x`` = [Q; H] (modified in place).

    Each Newton direction is searched along by backtracking (quadratic interpolation,
    Armijo's sufficient decrease of the merit function) and a partial step is a step
    like any other: convergence is judged on the equations' errors after every step
    (every link equation within ``tol_head_m``, every junction within ``tol_flow_rel``
    of the hole flow), not on the step length.  Where no step down to ``STEP_MIN``
    decreases the merit function the best step tried is taken, or, if none decreased
    it, the full step (the way across a kink of the merit function).  With ``friction_start`` the
    friction-only equations are solved first, to ``tol_loose``, as the starting point
    of the momentum ones.  Returns (status, iterations, largest head error).
    """
    nl = links.n_links
    n = x.size
    vals = np.zeros(pat.row_ptr[n])
    work = np.empty(pat.row_ptr[n])
    r = np.empty(n)
    r_new = np.empty(n)
    rhs = np.empty(n)
    w = np.zeros(n)
    x_new = np.empty(n)
    dx = np.empty(n)
    phase_mom = momentum and not friction_start
    # np.bool_, not a bare True: numba compiles a separate copy of residual (and of all it
    # calls) for each literal bool it is passed; one plain-bool copy compiles once
    jac = np.bool_(True)
    residual(x, jac, phase_mom, links, pipes, holes, fits, pat, vals, r)
    fmax = 0.0
    for it in range(stop.max_iterations + 1):
        q_scale = _q_scale(x, links)
        fmax, gmax = _errors(r, nl)
        if not (math.isfinite(fmax) and math.isfinite(gmax)):
            return NON_FINITE, it, fmax
        if fmax <= stop.tol_head_m and gmax <= stop.tol_flow_rel * q_scale:
            if phase_mom or not momentum:
                return OK, it, fmax
        if it == stop.max_iterations:
            break
        if not _direction(vals, work, r, pat, rhs, w, dx, nl):
            return SINGULAR, it, fmax
        for i in range(n):
            if not math.isfinite(dx[i]):
                return NON_FINITE, it, fmax
        if not phase_mom:
            dq_max = 0.0
            for i in range(nl):
                dq_max = max(dq_max, abs(dx[i]))
            if dq_max <= stop.tol_loose * q_scale:
                # friction-only start reached: switch on the momentum terms
                phase_mom = True
                residual(x, jac, jac, links, pipes, holes, fits, pat, vals, r)
                continue
        merit0 = _merit(r, nl, q_scale)
        step = 1.0
        best_step, best_merit = 0.0, merit0
        while True:
            for i in range(n):
                x_new[i] = x[i] + step * dx[i]
            residual(x_new, jac, phase_mom, links, pipes, holes, fits, pat, vals, r_new)
            merit = _merit(r_new, nl, q_scale)
            if merit <= merit0 * (1.0 - ARMIJO * step):
                break
            if merit < best_merit:
                best_step, best_merit = step, merit
            if step <= STEP_MIN:
                # no sufficient decrease: the best step tried if it helped at all, else
                # the full step (the way across a kink of the merit function)
                step = best_step if best_step > 0.0 else 1.0
                for i in range(n):
                    x_new[i] = x[i] + step * dx[i]
                residual(x_new, jac, phase_mom, links, pipes, holes, fits, pat, vals, r_new)
                break
            # the minimum of the quadratic through merit(0), its slope -2 merit0 and
            # merit(step), kept within a tenth and a half of the step
            denom = merit - merit0 + 2.0 * merit0 * step
            trial = merit0 * step * step / denom if denom > 0.0 else 0.5 * step
            step = max(min(max(trial, 0.1 * step), 0.5 * step), STEP_MIN)
        x[:] = x_new
        r[:] = r_new
    return NOT_CONVERGED, stop.max_iterations, fmax
