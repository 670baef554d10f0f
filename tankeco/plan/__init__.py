"""Planning on top of the simulator: water-change schedules, their risk, parameter sweeps.

Pure model code: no plotting and no file output here (see :mod:`tankeco.plan_report` and
:mod:`tankeco.commands.plan`).
"""
