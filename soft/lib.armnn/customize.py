# The logic lives in ckrequest.install.debian_lib: it knows the layout the installer unpacks (and LD_LIBRARY_PATH).
from ckrequest.install.debian_lib import armnn_dirs as dirs  # noqa: F401
from ckrequest.install.debian_lib import armnn_setup as setup  # noqa: F401
from ckrequest.install.debian_lib import armnn_version_cmd as version_cmd  # noqa: F401
