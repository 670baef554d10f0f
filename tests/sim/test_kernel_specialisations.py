"""Each compiled kernel is compiled once: no literal arguments between kernels.

When one numba function calls another with a bare ``True``/``False``, an integer literal
or a module-level integer constant, numba compiles a separate copy of the callee (and of
everything it calls) for that literal value, besides the plain copy Python callers use.
``ros2_kernel.advance`` calling ``evaluate(..., True)`` and ``evaluate(..., False)`` made
the right-hand side compile three times, a few seconds of every first run (issue 11,
point 8).  A literal is passed as ``np.bool_(True)`` or ``np.int64(K)`` instead, which
numba types as a plain bool or int.  This test reads the kernels' source, so it runs in
no time and needs no compile.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

KERNEL_MODULES = (
    "tankeco.sim.ros2_kernel",
    "tankeco.sim.biofilm",
    "tankeco.sim.events",
    "tankeco.sim.batch",
    "tankeco.hydraulics.newton_kernel",
    "tankeco.hydraulics.bedmap",
)


def _callee(module, func: ast.expr):
    """The object a call's ``func`` names in the module (``f`` or ``mod.f``), or None."""
    if isinstance(func, ast.Name):
        return getattr(module, func.id, None)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return getattr(getattr(module, func.value.id, None), func.attr, None)
    return None


def _local_names(fn: ast.FunctionDef) -> set[str]:
    args = fn.args
    names = {a.arg for a in args.args + args.kwonlyargs + args.posonlyargs}
    stored = (n for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names | {n.id for n in stored}


def _literal(module, arg: ast.expr, local: set[str]) -> str | None:
    """Why numba would type ``arg`` as a literal, or None."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, bool | int):
        return f"the literal {arg.value!r}"
    if isinstance(arg, ast.Name) and arg.id not in local:
        value = getattr(module, arg.id, None)
        if isinstance(value, bool | int | np.integer | np.bool_):
            return f"the module constant {arg.id} = {value!r}"
    return None


def literal_calls(module_name: str) -> list[str]:
    """Every call from a compiled function to a compiled function with a literal argument."""
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    found = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        if not isinstance(getattr(module, fn.name, None), CPUDispatcher):
            continue
        local = _local_names(fn)
        for call in ast.walk(fn):
            if not isinstance(call, ast.Call):
                continue
            if not isinstance(_callee(module, call.func), CPUDispatcher):
                continue
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                why = _literal(module, arg, local)
                if why is not None:
                    found.append(
                        f"{module_name}.{fn.name}, line {call.lineno}: "
                        f"{ast.unparse(call.func)}(...) gets {why}"
                    )
    return found


@pytest.mark.parametrize("module_name", KERNEL_MODULES)
def test_no_kernel_calls_another_with_a_literal(module_name: str) -> None:
    assert literal_calls(module_name) == []


def test_the_check_finds_a_literal_bool(tmp_path, monkeypatch) -> None:
    """The check itself: a kernel calling another with True is reported."""
    (tmp_path / "literal_kernels_example.py").write_text(
        "from numba import njit\n"
        "K = 3\n"
        "@njit\n"
        "def f(x, flag, k):\n"
        "    return x if flag else k\n"
        "@njit\n"
        "def g(x):\n"
        "    return f(x, True, K)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = literal_calls("literal_kernels_example")
    assert len(found) == 2
    assert "the literal True" in found[0]
    assert "the module constant K = 3" in found[1]
