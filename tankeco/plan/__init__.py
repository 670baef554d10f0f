"""Planning on top of the simulator and the hydraulics: water-change schedules, their
risk, parameter sweeps, and layout tuning.

Pure model code: no plotting and no file output here (see :mod:`tankeco.io.plan_report` and
:mod:`tankeco.cli.cmd_plan`).
"""
