"""Partitioned workers (``--tanks``, ``--partition K/N``): parsing, shares, the mapping."""

from __future__ import annotations

import pytest

from tankeco.bridge.mapping import Mapping, Target
from tankeco.bridge.partition import Partition, parse_partition, parse_tanks, share_of
from tankeco.cli import main as cli_main
from tankeco.errors import UserError

TANKS = parse_tanks("home/main, home/qt\nshop/a,shop/b,shop/c,home/fry")


def test_every_tank_is_in_exactly_one_share_and_adding_a_tank_moves_none() -> None:
    more = tuple(sorted((*TANKS, ("shop", "new"))))
    for n in (1, 2, 3, 4):
        by_share: dict[int, list[tuple[str, str]]] = {}
        for t in TANKS:
            by_share.setdefault(share_of(*t, n), []).append(t)
        assert set(by_share) <= set(range(1, n + 1))
        for k, tanks in by_share.items():
            assert Partition(TANKS, k, n).owned == tuple(tanks)
            grown = Partition(more, k, n).owned
            assert tuple(t for t in grown if t != ("shop", "new")) == tuple(tanks)


def test_a_worker_subscribes_to_its_tanks_and_every_status_only() -> None:
    p = Partition(TANKS, 2, 2)
    filters = p.native_filters()
    assert "tankeco/v1/#" not in filters
    for site, tank in p.owned:
        assert f"tankeco/v1/{site}/{tank}/+/state" in filters
        assert f"tankeco/v1/{site}/{tank}/events" in filters
    for site, tank in set(TANKS) - set(p.owned):
        assert not [f for f in filters if f"/{site}/{tank}/" in f]
    assert "tankeco/v1/+/+/+/status" in filters


def test_the_mapping_keeps_only_devices_of_the_workers_tanks() -> None:
    p = Partition(TANKS, 1, 2)
    mine = next(t for s, t in p.owned if s == "home")
    other = next(t for s, t in TANKS if s == "home" and (s, t) not in p.owned)
    m = Mapping(
        site="home",
        esphome={"a/state": Target(mine, "x", "temperature"), "b/state": Target(other, "y", "ph")},
    )
    assert list(p.restrict(m).esphome) == ["a/state"]
    assert p.restrict(m).subscriptions()[: len(p.native_filters())] == list(p.native_filters())


@pytest.mark.parametrize(
    ("text", "needle"),
    [("1/0", "1 <= K <= N"), ("3/2", "1 <= K <= N"), ("a/b", "K/N"), ("0/2", "1 <= K <= N")],
)
def test_bad_partitions_say_what_is_allowed(text: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        parse_partition(text)


@pytest.mark.parametrize("text", ["home", "home/main/x", "home/ma in+", ","])
def test_bad_tank_lists_say_what_is_allowed(text: str) -> None:
    with pytest.raises(UserError, match="--tanks"):
        parse_tanks(text)


def test_a_share_with_no_tank_is_refused() -> None:
    one = parse_tanks("home/main")
    empty = next(k for k in (1, 2) if share_of("home", "main", 2) != k)
    with pytest.raises(UserError, match="falls in this share"):
        Partition(one, empty, 2)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--partition", "1/2"], "needs --tanks"),
        (["--tanks", "home/main", "--shared-group", "g"], "choose one way"),
        (["--tanks", "home", "--partition", "1/2"], "--tanks 'home'"),
    ],
)
def test_the_cli_refuses_bad_partition_options_in_one_line(
    tmp_path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:  # noqa: ANN001
    rc = cli_main(
        ["bridge", "--broker", "mqtt://127.0.0.1:1", "--store", f"sqlite:///{tmp_path}/s.db",
         *extra]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and len(err.strip().splitlines()) == 1
