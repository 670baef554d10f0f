"""The error types of tankeco: one root, then whose fault it is.

``TankecoError`` is the root. Under it:

* :class:`UserError` — bad input from the user (scenario, command line, file, store URL).
  The CLI prints it as one line (``tankeco: error: ...``) and exits with code 2. The
  message must name the thing, the value and what is allowed.
* :class:`ModelError` — the model could not answer for an input that is valid (a solver
  that did not converge, an integration that failed). Not the user's fault: the CLI prints
  one line that says so (``tankeco: model error: ...``) and exits with code 3.

Quarantine of sensor messages uses :class:`tankeco.reasons.Rejected`, also a
``TankecoError``; it never reaches the command line.
"""

from collections.abc import Iterator
from contextlib import contextmanager


class TankecoError(Exception):
    """Root of every error tankeco raises on purpose."""


class UserError(TankecoError):
    """Bad input from the user (scenario, command line, file): one line, exit code 2."""


class ScenarioError(UserError, ValueError):
    """A scenario key holds a value that is not allowed.

    The message names the dotted key, the offending value and what is allowed, e.g.
    ``tank.water_depth_cm = 50: deeper than the tank allows (at most 32 cm above the bed)``.
    """

    def __init__(self, key: str, value: object, allowed: str):
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{key} = {value!r}: {allowed}")


class ModelError(TankecoError, RuntimeError):
    """The model failed on a valid input (not the user's fault): one line, exit code 3."""


class ConvergenceError(ModelError):
    """An iterative solver (hydraulic Newton, implicit integrator) did not converge."""


@contextmanager
def writing(option: str, path: object) -> Iterator[None]:
    """Turn a file that cannot be written into one line naming ``option`` and ``path``.

    For what no check beforehand can see: a folder that does not exist, ``/proc`` or a
    read-only mount (which ``os.access`` passes for root), a full disk.  A broken pipe on
    standard output is left alone (the CLI ends quietly on it).
    """
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UserError(
            f"{option} {str(path)!r}: cannot write ({exc.strerror or exc}); allowed: a file"
            " in a writable folder"
        ) from None
