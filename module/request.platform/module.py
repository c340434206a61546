#
# CK module request.platform: platform descriptions. Entries are data (.cm/meta.json); the one
# action is ckrequest/actions/platform_detect.py.
#

cfg = {}  # set by CK: this module's meta
work = {}  # set by CK
ck = None  # set by CK: the kernel


def init(i):
    return {'return': 0}


def detect(i):
    """ck detect request.platform: which description matches this host (or a nominal one)."""
    from ckrequest.ck.module import call
    return call('platform_detect', i)
