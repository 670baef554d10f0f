"""A logged feeding replays (issue 11, point 4: the README walkthrough's compare crashed).

``tankeco node`` publishes feedings as events; ``compare`` replayed them with a copy of
the scenario's feed whose portion the engine did not know (``KeyError`` in
``Tank.feed``).  The replay now scales the routine itself.
"""

from __future__ import annotations

import pytest

from tankeco.compare.replay import Action, replay
from tankeco.scenario.loading import load_scenario


def test_logged_feedings_replay_and_scale_with_the_grams() -> None:
    scenario = load_scenario(None)
    grams = scenario.feeds[0].amount_g
    one = replay(scenario, 1.0, [Action(0.5, "feeding", grams, "g")])
    two = replay(scenario, 1.0, [Action(0.5, "feeding", 2 * grams, "g")])
    feed_one = one.balance["nitrogen_mg"]["in"]["feed"]
    feed_two = two.balance["nitrogen_mg"]["in"]["feed"]
    # the only feeding of the day is the logged one: twice the grams, twice the nitrogen
    assert feed_one > 0
    assert feed_two == pytest.approx(2 * feed_one, rel=1e-9)
