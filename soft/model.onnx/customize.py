# The logic lives in ckrequest.ck.soft (one place for all our model detectors).
from ckrequest.ck.soft import model_dirs as dirs  # noqa: F401
from ckrequest.ck.soft import model_setup as setup  # noqa: F401
from ckrequest.ck.soft import model_version_cmd as version_cmd  # noqa: F401
