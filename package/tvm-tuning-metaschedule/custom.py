# CK calls pre_path() before fixing the install path: one database per model and budget (ckrequest.ck.tvm_tuning).
from ckrequest.ck.tvm_tuning import package_pre_path as pre_path  # noqa: F401
