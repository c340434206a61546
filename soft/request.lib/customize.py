# The logic lives in ckrequest.ck.soft (one place for all our Python-library detectors).
from ckrequest.ck.soft import library_dirs as dirs  # noqa: F401
from ckrequest.ck.soft import library_setup as setup  # noqa: F401
from ckrequest.ck.soft import library_version_cmd as version_cmd  # noqa: F401
