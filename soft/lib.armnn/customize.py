# The logic lives in ckrequest.ck.soft (the layout comes from ckrequest.install.debian_lib, which unpacks it).
from ckrequest.ck.soft import armnn_dirs as dirs  # noqa: F401
from ckrequest.ck.soft import armnn_setup as setup  # noqa: F401
from ckrequest.ck.soft import armnn_version_cmd as version_cmd  # noqa: F401
