# The logic lives in ckrequest.ck.soft (one place for all our data set detectors).
from ckrequest.ck.soft import dataset_dirs as dirs  # noqa: F401
from ckrequest.ck.soft import dataset_setup as setup  # noqa: F401
from ckrequest.ck.soft import dataset_version_cmd as version_cmd  # noqa: F401
