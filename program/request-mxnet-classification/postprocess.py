# CK calls ck_postprocess after each run: it adds the harness's features and meta to the point.
from ckrequest.ck_hooks import ck_postprocess  # noqa: F401
