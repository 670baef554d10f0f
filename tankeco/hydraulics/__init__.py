"""The undergravel filter's plumbing: network, pump, bed, Newton solver, layout builders.

Pure computation (numpy, scipy, fluids): no I/O, no plotting, no CLI.
"""
