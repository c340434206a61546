# The logic lives in ckrequest.ck.soft (one place for all our detectors).
from ckrequest.ck.soft import python_parse_version as parse_version  # noqa: F401
from ckrequest.ck.soft import python_setup as setup  # noqa: F401
