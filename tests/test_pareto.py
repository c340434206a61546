"""The Pareto frontier against its definition (a brute-force oracle), on random data with many ties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckrequest.board.pareto import brute_force_mask, dominates, pareto_mask


@st.composite
def metric_table(draw, min_dims: int = 1, max_dims: int = 4, max_points: int = 40):
    dims = draw(st.integers(min_dims, max_dims))
    directions = draw(st.lists(st.sampled_from(["min", "max"]), min_size=dims, max_size=dims))
    small = st.integers(0, 4).map(float)  # few distinct values: ties in every column are common
    wide = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    values = draw(st.sampled_from([small, wide]))
    rows = draw(st.lists(st.lists(values, min_size=dims, max_size=dims), max_size=max_points))
    return rows, directions


@settings(max_examples=300, deadline=None)
@given(metric_table())
def test_frontier_matches_the_definition(table):
    rows, directions = table
    assert pareto_mask(rows, directions) == brute_force_mask(rows, directions)


@settings(max_examples=150, deadline=None)
@given(metric_table(min_dims=2, max_dims=2, max_points=120))
def test_two_metric_sweep_matches_the_definition(table):
    rows, directions = table
    assert pareto_mask(rows, directions) == brute_force_mask(rows, directions)


def test_equal_points_are_on_the_frontier_together():
    rows = [[10.0, 0.7], [10.0, 0.7], [12.0, 0.7], [10.0, 0.6], [20.0, 0.8]]
    # latency (lower is better) vs accuracy (higher is better)
    assert pareto_mask(rows, ["min", "max"]) == [True, True, False, False, True]


def test_a_point_is_dominated_only_when_strictly_worse_somewhere():
    assert dominates([1, 5], [2, 5], ["min", "max"])
    assert not dominates([1, 5], [1, 5], ["min", "max"])
    assert not dominates([1, 4], [2, 5], ["min", "max"])


def test_three_metrics_keep_a_point_best_in_a_third_only():
    rows = [[10.0, 0.7, 100.0], [5.0, 0.8, 900.0], [12.0, 0.6, 50.0], [12.0, 0.6, 60.0]]
    # latency min, accuracy max, price min: the cheap one stays, its dearer twin does not
    assert pareto_mask(rows, ["min", "max", "min"]) == [True, True, True, False]


def test_one_metric_keeps_every_best_value():
    assert pareto_mask([[3.0], [1.0], [1.0], [2.0]], ["min"]) == [False, True, True, False]


@pytest.mark.parametrize("rows, directions, words", [
    ([[1.0, math.nan]], ["min", "max"], "NaN"),
    ([[1.0, 2.0]], ["min", "best"], "neither"),
    ([[1.0]], [], "at least one metric"),
])
def test_bad_input_is_refused(rows, directions, words):
    with pytest.raises(ValueError, match=words):
        pareto_mask(rows, directions)


def test_no_points_no_frontier():
    assert pareto_mask([], ["min", "max"]) == []
