import pytest

from ckrequest.errors import RequestError
from ckrequest.run.config import RunConfig, config_from_env


def test_defaults_and_overrides():
    assert config_from_env({}) == RunConfig()
    assert config_from_env({}).mode == "performance"
    cfg = config_from_env({"CK_REQUEST_MODE": "accuracy", "CK_REQUEST_BATCH_SIZE": "8",
                           "CK_REQUEST_MIN_DURATION_S": "0.5", "CK_REQUEST_THREADS": " 2 ",
                           "CK_REQUEST_MAX_IMAGES": ""})
    assert (cfg.mode, cfg.batch_size, cfg.min_duration_s, cfg.threads, cfg.max_images) == ("accuracy", 8, 0.5, 2, 0)


@pytest.mark.parametrize("name, value, words", [
    ("CK_REQUEST_BATCH_SIZE", "abc", "is not a whole number"),
    ("CK_REQUEST_BATCH_SIZE", "0", "is outside"),
    ("CK_REQUEST_MIN_QUERIES", "1.5", "is not a whole number"),
    ("CK_REQUEST_MIN_DURATION_S", "soon", "is not a number"),
    ("CK_REQUEST_THREADS", "-1", "is outside"),
])
def test_bad_run_variable_is_one_clear_line(name, value, words):
    with pytest.raises(RequestError) as caught:
        config_from_env({name: value})
    message = str(caught.value)
    assert "\n" not in message and name in message and words in message and "--env." in message


def test_unknown_mode_names_the_run_variable():
    with pytest.raises(RequestError, match=r"CK_REQUEST_MODE='fast'.*--env.CK_REQUEST_MODE=accuracy"):
        config_from_env({"CK_REQUEST_MODE": "fast"})


def test_the_readme_lists_every_declared_run_variable():
    from ckrequest.places import CHECKOUT
    from ckrequest.run.run_vars import BY_NAME

    readme = (CHECKOUT / "README.md").read_text()
    listed = readme[readme.index("Run variables (`--env.<NAME>=<value>`)"):readme.index("### MLPerf LoadGen")]
    assert [name for name in BY_NAME if f"`{name}`" not in listed] == []


@pytest.mark.parametrize("name, value", [("CK_REQUEST_BATCH_SIZE", "1$(touch F)"), ("CK_REQUEST_THREADS", "`id`"),
                                         ("CK_REQUEST_USER_CONF", "/tmp/a b"), ("CK_REQUEST_OV_STREAMS", "2;id"),
                                         ("CK_REQUEST_USER_CONF", "\n/usr/bin/true"), ("CK_REQUEST_WARMUP", "1\nid")])
def test_a_value_is_checked_against_what_it_may_be(name, value):
    from ckrequest.run.run_vars import check_run_env

    with pytest.raises(RequestError, match=f"run variable {name}="):
        check_run_env({name: value})
