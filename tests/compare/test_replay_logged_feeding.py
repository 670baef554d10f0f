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


def test_the_replay_reaches_the_last_reading_before_now() -> None:
    """Issue 11 walkthrough: ``compare`` right after starting the node compared none of its
    readings.  The replay ended on the last whole output hour before ``--until``, so every
    reading of the last (partial) hour had no model value and was silently left out (the
    table showed one kit entry out of 1855 measurements)."""
    import numpy as np
    import pandas as pd

    from tankeco.compare.align import model_at

    result = replay(load_scenario(None), 1.03)
    assert result.timeseries["time_d"].iloc[-1] >= 1.03
    obs = pd.DataFrame({"time_d": [0.5, 1.02, 1.03], "quantity": ["ph", "ph", "no3_n"]})
    assert np.isfinite(model_at(result.timeseries, obs)).all()
