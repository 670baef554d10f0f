"""Payload decoders: one module per device family, all producing the same outcomes.

A decoder takes a message apart and says what it claims (a :class:`Candidate` reading, an
event, a manual entry, a status or metadata update); it does not decide whether to believe
it — :mod:`tankeco.bridge.validate` does.  A value that cannot even be taken apart comes
back as a :class:`Rejected` in the list (not raised), so one bad probe in a Tasmota message
does not drop the good ones next to it.
"""

from __future__ import annotations

from tankeco.bridge.candidate import Candidate
from tankeco.reasons import Rejected
from tankeco.store import Event, ManualEntry, SensorState

Outcome = Candidate | Event | ManualEntry | SensorState | Rejected

__all__ = ["Outcome"]
