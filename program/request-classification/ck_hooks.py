# CK calls ck_preprocess before each run (the run gets a folder of its own) and ck_postprocess
# after it (the harness's features and meta go into the experiment point).
from ckrequest.ck.hooks import ck_postprocess, ck_preprocess  # noqa: F401
