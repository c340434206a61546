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
