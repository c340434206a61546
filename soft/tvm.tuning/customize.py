# The logic lives in ckrequest.ck.tvm_tuning (it writes the database folder this detector reads).
from ckrequest.ck.tvm_tuning import soft_dirs as dirs  # noqa: F401
from ckrequest.ck.tvm_tuning import soft_setup as setup  # noqa: F401
from ckrequest.ck.tvm_tuning import soft_version_cmd as version_cmd  # noqa: F401
