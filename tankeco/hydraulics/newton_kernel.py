"""Compiled Newton iteration of the hydraulic solver (numba, cached on disk).

Why compiled: a 64-hole ladder has ~240 unknowns and a dozen fittings whose Crane
coefficients change with the flow split; evaluated element by element in Python a
Newton step cost ~2 ms, and a LAPACK banded or SuperLU solve of the step another
0.2-0.4 ms.  Here one step (losses, exact Jacobian, sparse LU, line search) costs tens of
microseconds.  What is computed is defined in :mod:`tankeco.hydraulics.solver` (the
equations), :mod:`tankeco.hydraulics.losses` (pipe, hole and pump laws) and
:mod:`tankeco.hydraulics.fittings` (which fitting sits where); this module only
evaluates it:

* Darcy friction factors from Clamond's (2009) exact solution of Colebrook's equation,
  the algorithm of :func:`fluids.friction.Clamond` (tests check equality with
  :func:`fluids.friction_factor`);
* Crane's (2009) TP-410 tee coefficients in closed form, the branches of
  :func:`fluids.K_branch_diverging_Crane`, :func:`fluids.K_run_diverging_Crane`,
  :func:`fluids.K_branch_converging_Crane` and :func:`fluids.K_run_converging_Crane`
  (each a polynomial of the branch's share of the combined flow; tests check equality
  with fluids), with their exact derivatives;
* the Newton step's linear system by sparse LU with a static pivot order (minimum
  degree, links before the heads they feed), computed once per network; a pivot that is
  numerically too small falls back to dense LU with partial pivoting for that step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

G = 9.80665
RE_LAMINAR = 2000.0
RE_TURBULENT = 4000.0

# status codes of :func:`newton`
OK, NOT_CONVERGED, SINGULAR, NON_FINITE = 0, 1, 2, 3


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


# ---------------------------------------------------------------- structure
@njit(cache=True)
def symbolic(n, n_links, rows, cols):
    """Static pivot order and filled pattern of the Newton matrix.

    Greedy minimum degree on the (symmetrised) pattern, a junction's head being eligible
    only once every link meeting at the junction is eliminated (the head rows have a
    zero diagonal; eliminated this way the heads' pivots are those of EPANET's
    positive-definite head matrix, plus the momentum couplings).  Returns (perm, inv,
    row_ptr, col, diag) of the filled matrix in pivot order, columns sorted.
    """
    adj = np.zeros((n, n), dtype=np.bool_)
    for i in range(rows.size):
        if rows[i] != cols[i]:
            adj[rows[i], cols[i]] = True
            adj[cols[i], rows[i]] = True
    deg = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if adj[i, j]:
                deg[i] += 1
    # a head becomes eligible once every link that meets at its junction is eliminated
    links_left = np.zeros(n, dtype=np.int64)
    for i in range(n_links, n):
        for j in range(n_links):
            if adj[i, j]:
                links_left[i] += 1
    incident = adj[n_links:, :n_links].copy()
    done = np.zeros(n, dtype=np.bool_)
    perm = np.empty(n, dtype=np.int64)
    nbr = np.empty(n, dtype=np.int64)
    for step in range(n):
        best, best_deg = -1, n + 1
        for i in range(n):
            if not done[i] and links_left[i] == 0 and deg[i] < best_deg:
                best, best_deg = i, deg[i]
        if best < 0:  # nothing eligible (cannot happen for a connected network)
            for i in range(n):
                if not done[i]:
                    best = i
                    break
        p = best
        perm[step] = p
        done[p] = True
        m = 0
        for j in range(n):
            if adj[p, j] and not done[j]:
                nbr[m] = j
                m += 1
        if p < n_links:
            for h in range(n_links, n):
                if incident[h - n_links, p]:
                    links_left[h] -= 1
        for a in range(m):
            u = nbr[a]
            deg[u] -= 1
            for b in range(a + 1, m):
                v = nbr[b]
                if not adj[u, v]:
                    adj[u, v] = True
                    adj[v, u] = True
                    deg[u] += 1
                    deg[v] += 1
    inv = np.empty(n, dtype=np.int64)
    for i in range(n):
        inv[perm[i]] = i
    count = n
    for i in range(n):
        for j in range(n):
            if adj[i, j]:
                count += 1
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    col = np.empty(count, dtype=np.int64)
    diag = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        oi = perm[i]
        for j in range(n):
            if j == i or adj[oi, perm[j]]:
                if j == i:
                    diag[i] = k
                col[k] = j
                k += 1
        row_ptr[i + 1] = k
    return perm, inv, row_ptr, col, diag


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
def _add(vals, posmap, r, c, v):
    vals[posmap[r, c]] -= v  # F = dH - loss: the matrix holds -d(loss)/dQ


@njit(cache=True)
def residual(
    x,
    want_jac,
    momentum,
    ints,
    flts,
    link_from,
    link_to,
    fixed_head,
    demand,
    pipe,
    hole,
    pump_pts,
    hv,
    hv_w,
    run,
    run_m,
    two,
    two_f,
    tee_ptr,
    tee_leg,
    tee_pair_ptr,
    tee_pair_f,
    const_pos,
    const_val,
    posmap,
    vals,
    out,
):
    """Residual [F; G] at ``x`` = [Q; H] into ``out``; the Jacobian into ``vals``."""
    nl, nj, n_p, n_h, has_pump, pump_kind, hw = (
        ints[0],
        ints[1],
        ints[2],
        ints[3],
        ints[4],
        ints[5],
        ints[6],
    )
    nu, fade, pump_a, pump_b, pump_c = flts[0], flts[1], flts[2], flts[3], flts[4]
    loss = out[:nl]
    loss[:] = 0.0
    if want_jac:
        vals[:] = 0.0
        for e in range(const_pos.size):
            vals[const_pos[e]] += const_val[e]
    # pipes: friction and constant minor losses
    for k in range(n_p):
        q = x[k]
        aq = abs(q)
        length, d, area, ed, r_lam, f4000, hw_r, minor, vh = (
            pipe[k, 0],
            pipe[k, 1],
            pipe[k, 2],
            pipe[k, 3],
            pipe[k, 4],
            pipe[k, 5],
            pipe[k, 6],
            pipe[k, 7],
            pipe[k, 8],
        )
        if hw:
            h = hw_r * aq**1.852 * np.sign(q)
            dh = max(1.852 * hw_r * aq**0.852, hw_r * 1e-6**0.852)
        else:
            v = q / area
            re = abs(v) * d / nu
            if re < RE_LAMINAR:
                h = r_lam * q
                dh = r_lam
            else:
                if re < RE_TURBULENT:
                    f_lam_end = 64.0 / RE_LAMINAR
                    slope = (f4000 - f_lam_end) / (RE_TURBULENT - RE_LAMINAR)
                    f = f_lam_end + slope * (re - RE_LAMINAR)
                    dlnf = slope * re / f
                else:
                    f = clamond(re, ed)
                    c_re = 2.51 / re
                    s = 2.0 / math.log(10.0) * c_re / (ed / 3.7 + c_re / math.sqrt(f))
                    dlnf = -2.0 * s / (1.0 + s)
                h = f * length / d * v * abs(v) / (2 * G)
                dh = max((2.0 + dlnf) * h / q, r_lam)
        h += minor * vh * q * aq
        dh += 2 * minor * vh * aq
        loss[k] = h
        if want_jac:
            _add(vals, posmap, k, k, dh)
    # holes: orifice and bed
    for j in range(n_h):
        k = n_p + j
        q = x[k]
        aq = abs(q)
        kh, c1, c2 = hole[j, 0], hole[j, 1], hole[j, 2]
        loss[k] = kh * q * aq + c1 * q + c2 * q * aq
        if want_jac:
            _add(vals, posmap, k, k, 2 * kh * max(aq, 1e-12) + c1 + 2 * c2 * aq)
    # pump: a head gain
    if has_pump:
        k = nl - 1
        q = x[k]
        if pump_kind == 2:
            npt = pump_pts.shape[0]
            i = 0
            while i < npt and pump_pts[i, 0] < q:
                i += 1
            i = min(max(i - 1, 0), npt - 2)
            slope = (pump_pts[i + 1, 1] - pump_pts[i, 1]) / (pump_pts[i + 1, 0] - pump_pts[i, 0])
            g, dg = pump_pts[i, 1] + slope * (q - pump_pts[i, 0]), slope
        else:
            aq = abs(q)
            if aq == 0.0:
                g = pump_a
                dg = -pump_b if pump_c == 1.0 else 0.0
            else:
                g = pump_a - pump_b * aq**pump_c * np.sign(q)
                dg = -pump_b * pump_c * aq ** (pump_c - 1.0)
        loss[k] = -g
        if want_jac:
            _add(vals, posmap, k, k, -dg)
    if momentum:
        _momentum(
            x, want_jac, fade, link_to, pipe, hv, hv_w, run, run_m, two, two_f,
            tee_ptr, tee_leg, tee_pair_ptr, tee_pair_f, posmap, vals, loss,
        )  # fmt: skip
    # link equations F = H_from - H_to - loss, junction equations G = in - out - demand
    for k in range(nl):
        a, b = link_from[k], link_to[k]
        ha = x[nl + a] if a < nj else fixed_head[a - nj]
        hb = x[nl + b] if b < nj else fixed_head[b - nj]
        out[k] = ha - hb - loss[k]
    g_out = out[nl:]
    for i in range(nj):
        g_out[i] = -demand[i]
    for k in range(nl):
        a, b = link_from[k], link_to[k]
        if b < nj:
            g_out[b] += x[k]
        if a < nj:
            g_out[a] -= x[k]


@njit(cache=True)
def _momentum(
    x, want_jac, fade, link_to, pipe, hv, hv_w, run, run_m, two, two_f,
    tee_ptr, tee_leg, tee_pair_ptr, tee_pair_f, posmap, vals, loss,
):  # fmt: skip
    # a hole sees the static head H - V^2/2g of the header at its junction
    for e in range(hv.shape[0]):
        h, p = hv[e, 0], hv[e, 1]
        c = hv_w[e] * pipe[p, 8]
        loss[h] += c * x[p] * x[p]
        if want_jac:
            _add(vals, posmap, h, p, 2 * c * x[p])
    # straight header junctions with holes: Crane's run loss of a dividing tee
    for e in range(run.shape[0]):
        node, pa, pb = run[e, 0], run[e, 1], run[e, 2]
        qa, qb = x[pa], x[pb]
        into_a = qa if link_to[pa] == node else -qa
        into_b = qb if link_to[pb] == node else -qb
        if into_a > 0 and into_b < 0:
            comb, out = pa, pb
        elif into_b > 0 and into_a < 0:
            comb, out = pb, pa
        else:
            continue
        q_comb = abs(x[comb])
        qbr = max(q_comb - abs(x[out]), 0.0)
        coef = run_m[e] * pipe[comb, 8]
        # the loss fades in over the first few per cent of the combined flow, as a tee
        # leg's does, instead of jumping in at zero flow (a dead end or a stagnation
        # point between two feeds, whose flow Newton only ever approaches)
        scale = fade * max(q_comb, 1e-30)
        th = math.tanh(x[out] / scale)
        loss[out] += th * coef * qbr * qbr
        if want_jac:
            s_out, s_comb = np.sign(x[out]), np.sign(x[comb])
            sech2 = 1.0 - th * th
            d_comb = th * 2 * coef * qbr * s_comb
            if q_comb > 1e-30:
                d_comb -= sech2 * x[out] / (scale * q_comb) * s_comb * coef * qbr * qbr
            _add(vals, posmap, out, comb, d_comb)
            d_out = -th * 2 * coef * qbr * s_out + sech2 / scale * coef * qbr * qbr
            _add(vals, posmap, out, out, d_out)
    # elbows and reducers
    for e in range(two.shape[0]):
        a, b, small = two[e, 0], two[e, 1], two[e, 2]
        a_into, k_ab, k_ba, vh = two_f[e, 0], two_f[e, 1], two_f[e, 2], two_f[e, 3]
        if x[a] * a_into >= 0:
            out, k = b, k_ab
        else:
            out, k = a, k_ba
        qs = x[small]
        q_in = abs(x[b if out == a else a])
        scale = fade * max(q_in, 1e-30)
        th = math.tanh(x[out] / scale)  # 1 unless holes at the fitting take nearly all
        loss[out] += th * k * vh * qs * qs
        if want_jac:
            _add(vals, posmap, out, small, th * 2 * k * vh * qs)
            _add(vals, posmap, out, out, (1.0 - th * th) / scale * k * vh * qs * qs)
    # tees and crosses
    for t in range(tee_ptr.size - 1):
        _tee(x, want_jac, fade, t, tee_ptr, tee_leg, tee_pair_ptr, tee_pair_f,
             posmap, vals, loss)  # fmt: skip


@njit(cache=True)
def _tee(x, want_jac, fade, t, tee_ptr, tee_leg, tee_pair_ptr, tee_pair_f,
         posmap, vals, loss):  # fmt: skip
    """Crane's losses of one tee or cross, blended smoothly across a change of pattern.

    When the leg with the least flow passes through zero the tee switches between
    dividing and combining, and Crane's two sets of coefficients charge different
    losses to the other legs (a jump in head of order the velocity head).  While that
    leg flows *in*, the loss is therefore ``w L(Q) + (1 - w) L(Q with that leg's flow
    set to 0)``, with ``w = tanh(|Q_min| / (fade Q_max))``: Crane's wherever the leg
    carries more than a few per cent of the largest flow, and continuous with the
    dividing tee (whose losses tend to those with the leg shut) where it reverses.
    """
    l0 = tee_ptr[t]
    nleg = tee_ptr[t + 1] - l0
    qs = np.empty(nleg)
    q_max = 0.0
    z = 0
    for i in range(nleg):
        qs[i] = x[tee_leg[l0 + i, 0]]
        q_max = max(q_max, abs(qs[i]))
        if abs(qs[i]) < abs(qs[z]):
            z = i
    if q_max == 0.0:
        return
    lc = np.zeros(nleg)
    jc = np.zeros((nleg, nleg))
    _tee_local(qs, fade, l0, nleg, tee_leg, tee_pair_ptr[t], tee_pair_f, lc, jc)
    scale = fade * q_max
    # dividing, Crane's losses tend to those with the leg shut as its flow falls (its
    # own loss fades in, see _tee_local); combining, they do not
    w = math.tanh(abs(qs[z]) / scale) if tee_leg[l0 + z, 1] * qs[z] > 0 else 1.0
    if w < 1.0:
        q_z = qs[z]
        qs[z] = 0.0
        ll = np.zeros(nleg)
        jl = np.zeros((nleg, nleg))
        _tee_local(qs, fade, l0, nleg, tee_leg, tee_pair_ptr[t], tee_pair_f, ll, jl)
        qs[z] = q_z
        dw = (1.0 - w * w) / scale * np.sign(q_z)
        # the largest leg sets the width of the blend
        m = 0
        for i in range(nleg):
            if abs(qs[i]) > abs(qs[m]):
                m = i
        dw_m = -(1.0 - w * w) * abs(q_z) / (scale * q_max) * np.sign(qs[m])
        for i in range(nleg):
            diff = lc[i] - ll[i]
            for j in range(nleg):
                jc[i, j] = w * jc[i, j] + (1.0 - w) * (0.0 if j == z else jl[i, j])
            jc[i, z] += dw * diff
            jc[i, m] += dw_m * diff
            lc[i] = w * lc[i] + (1.0 - w) * ll[i]
    for i in range(nleg):
        pi = tee_leg[l0 + i, 0]
        loss[pi] += lc[i]
        if want_jac:
            for j in range(nleg):
                if jc[i, j] != 0.0:
                    _add(vals, posmap, pi, tee_leg[l0 + j, 0], jc[i, j])


@njit(cache=True)
def _tee_local(qs, fade, l0, nleg, tee_leg, p0, tee_pair_f, out, jac):
    """Crane's loss charged to each leg at leg flows ``qs`` (see fittings), and d/dQ."""
    n_in = 0
    comb_in, comb_out = -1, -1
    for i in range(nleg):
        if tee_leg[l0 + i, 1] * qs[i] > 0:
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
    # the run: of the other legs, the one most nearly opposite the combined leg
    run, run_cos = -1, 2.0
    for i in range(nleg):
        if i == comb or (tee_leg[l0 + i, 1] * qs[i] > 0) == diverging:
            continue
        cs = tee_pair_f[p0 + comb * nleg + i, 0]
        if cs < run_cos:
            run, run_cos = i, cs
    first_other = -1
    for i in range(nleg):
        if i == comb or i == run or (tee_leg[l0 + i, 1] * qs[i] > 0) == diverging:
            continue
        first_other = i
        break
    q_comb = abs(qs[comb])
    vh = tee_pair_f[p0 + comb * nleg + comb, 4]
    vq2 = vh * qs[comb] * qs[comb]
    dvq2 = 2 * vh * qs[comb]
    scale = fade * max(q_comb, 1e-30)
    q_run = abs(qs[run])
    for o in range(nleg):
        if o == comb or (tee_leg[l0 + o, 1] * qs[o] > 0) == diverging:
            continue
        br = o if o != run else first_other
        q_br = abs(qs[br])
        total = q_run + q_br
        pair = p0 + comb * nleg + br
        if total > 0.0:
            kind = (0 if o != run else 1) if diverging else (2 if o != run else 3)
            k, dk = crane_k(kind, tee_pair_f[pair, 1], tee_pair_f[pair, 2],
                            tee_pair_f[pair, 3 if kind == 2 else 5], q_br / total)  # fmt: skip
        else:
            k, dk = 0.0, 0.0
        if k < 0:
            # charged by its magnitude, as the model always has: Crane's negative K's
            # (a run's regain, a small combining branch) are not credited as a gain
            k, dk = -k, -dk
        # Crane's diverging and converging branch K's disagree at zero branch flow: each
        # outgoing leg's loss fades in over a few per cent of the combined flow
        th = math.tanh(qs[o] / scale)
        out[o] = k * vq2 * th
        # d/dQ of Q_branch / (Q_run + Q_branch) through |Q_run| and |Q_branch|
        if total > 0.0:
            kv = dk * vq2 * th / (total * total)
            jac[o, br] += kv * q_run * np.sign(qs[br])
            jac[o, run] -= kv * q_br * np.sign(qs[run])
        sech2 = 1.0 - th * th
        jac[o, o] += k * vq2 * sech2 / scale
        jac[o, comb] += k * dvq2 * th
        if q_comb > 1e-30:
            jac[o, comb] -= k * vq2 * sech2 * qs[o] / (scale * q_comb) * np.sign(qs[comb])


# ---------------------------------------------------------------- Newton
@njit(cache=True)
def _merit(r, nl, q_scale):
    s = 0.0
    for i in range(nl):
        s += r[i] * r[i]
    t = 0.0
    for i in range(nl, r.size):
        t += r[i] * r[i]
    return s + t / (q_scale * q_scale)


@njit(cache=True)
def _q_scale(x, n_p, n_h):
    s = 0.0
    for i in range(n_p, n_p + n_h):
        s += abs(x[i])
    return max(s, 1e-9)


@njit(cache=True)
def newton(
    x,
    max_it,
    tol_head,
    tol_flow_rel,
    tol_loose,
    momentum,
    friction_start,
    ints,
    flts,
    link_from,
    link_to,
    fixed_head,
    demand,
    pipe,
    hole,
    pump_pts,
    hv,
    hv_w,
    run,
    run_m,
    two,
    two_f,
    tee_ptr,
    tee_leg,
    tee_pair_ptr,
    tee_pair_f,
    const_pos,
    const_val,
    posmap,
    perm,
    row_ptr,
    col,
    diag,
):
    """Newton with a backtracking line search on ``x`` = [Q; H] (modified in place).

    With ``friction_start`` the friction-only equations are solved first, to
    ``tol_loose``, as the starting point of the momentum ones.  Returns (status,
    iterations, largest head error).
    """
    nl, n_p, n_h = ints[0], ints[2], ints[3]
    n = x.size
    vals = np.zeros(row_ptr[n])
    work = np.empty(row_ptr[n])
    r = np.empty(n)
    r_new = np.empty(n)
    rhs = np.empty(n)
    w = np.zeros(n)
    x_new = np.empty(n)
    phase_mom = momentum and not friction_start
    args = (ints, flts, link_from, link_to, fixed_head, demand, pipe, hole, pump_pts, hv,
            hv_w, run, run_m, two, two_f, tee_ptr, tee_leg, tee_pair_ptr, tee_pair_f,
            const_pos, const_val, posmap)  # fmt: skip
    residual(x, True, phase_mom, *args, vals, r)
    q_scale = _q_scale(x, n_p, n_h)
    fmax = 0.0
    for it in range(1, max_it + 1):
        for i in range(n):
            rhs[i] = -r[perm[i]]
        work[:] = vals
        ok = _lu_solve(work, row_ptr, col, diag, rhs, w)
        if not ok:
            for i in range(n):
                rhs[i] = -r[perm[i]]
            if not _dense_solve(vals, row_ptr, col, rhs):
                return SINGULAR, it, 0.0
        dx = np.empty(n)
        for i in range(n):
            dx[perm[i]] = rhs[i]
        for i in range(n):
            if not math.isfinite(dx[i]):
                return NON_FINITE, it, 0.0
        merit0 = _merit(r, nl, q_scale)
        step = 1.0
        for i in range(n):
            x_new[i] = x[i] + dx[i]
        residual(x_new, True, phase_mom, *args, vals, r_new)
        while merit0 > 1e-24 and _merit(r_new, nl, q_scale) > merit0 * (1 - 1e-4 * step):
            if step < 0.01:  # no descent along Newton's direction: take the step anyway
                break
            step *= 0.5
            for i in range(n):
                x_new[i] = x[i] + step * dx[i]
            residual(x_new, True, phase_mom, *args, vals, r_new)
        dq_max = 0.0
        for i in range(nl):
            dq_max = max(dq_max, abs(step * dx[i]))
        x[:] = x_new
        r[:] = r_new
        q_scale = _q_scale(x, n_p, n_h)
        fmax = 0.0
        for i in range(nl):
            fmax = max(fmax, abs(r[i]))
        if not phase_mom:
            if momentum and step == 1.0 and dq_max <= tol_loose * q_scale:
                phase_mom = True  # friction-only start reached: switch on the momentum terms
                residual(x, True, True, *args, vals, r)
                continue
        if step == 1.0 and (
            (dq_max <= tol_flow_rel * q_scale and fmax <= tol_head) or fmax <= tol_head * 1e-3
        ):
            if phase_mom or not momentum:
                return OK, it, fmax
            phase_mom = True
            residual(x, True, True, *args, vals, r)
    return NOT_CONVERGED, max_it, fmax
