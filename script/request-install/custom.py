# CK calls pre_path() of every package whose scripts live here (logic in ckrequest.ck.package).
from ckrequest.ck.package import library_pre_path as pre_path  # noqa: F401
