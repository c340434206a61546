# The logic lives in ckrequest.ck_soft (one place for all our data set detectors).
from ckrequest.ck_soft import dataset_dirs as dirs  # noqa: F401
from ckrequest.ck_soft import dataset_setup as setup  # noqa: F401
from ckrequest.ck_soft import dataset_version_cmd as version_cmd  # noqa: F401
