"""Errors a user can act on.

Anything raised as :class:`UserError` is printed by the CLI as one line and exits with
code 2, never as a traceback: the message must name what was wrong (key, value) and what
is allowed.
"""


class UserError(Exception):
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
