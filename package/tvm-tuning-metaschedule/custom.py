# CK calls pre_path() before fixing the install path: one database per model and budget (ckrequest.tvm_tuning).
from ckrequest.tvm_tuning import package_pre_path as pre_path  # noqa: F401
