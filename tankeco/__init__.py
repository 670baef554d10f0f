"""tankeco: aquarium ecosystem simulator and monitor.

The model (``tankeco.chemistry``, ``tankeco.sim``) is pure computation; I/O lives at the
edges (``tankeco.cli``, ``tankeco.io.output``).  See README.md for the two commands that get
a keeper going.
"""

__version__ = "0.1.0"
