"""Planning on top of the simulator and the hydraulics (water changes, layout tuning)."""
