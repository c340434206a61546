import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckrequest.run.stats import percentile, queries_for_percentile, summarize, tail_percentiles

samples = st.lists(st.floats(min_value=1e-6, max_value=10.0, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(samples, st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_linear(values, q):
    assert percentile(sorted(values), q) == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(samples)
def test_summary_matches_numpy(values):
    s = summarize(values)
    assert s.count == len(values)
    assert s.min_s == min(values) and s.max_s == max(values)
    assert s.mean_s == pytest.approx(float(np.mean(values)))
    assert s.median_s == pytest.approx(float(np.median(values)))
    assert s.p99_s == pytest.approx(float(np.percentile(values, 99)))
    expected_stdev = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    assert s.stdev_s == pytest.approx(expected_stdev, abs=1e-12)
    assert s.min_s <= s.median_s <= s.p90_s <= s.p99_s <= s.max_s


def test_percentile_needs_enough_queries():
    assert queries_for_percentile(99) == 100
    assert queries_for_percentile(90) == 10
    with pytest.raises(ValueError):
        summarize([])
    assert [tail_percentiles(n) for n in (9, 10, 99, 100)] == [(), (90,), (90,), (90, 99)]
    assert summarize([0.1] * 10).tails_s() == {90: pytest.approx(0.1)}
