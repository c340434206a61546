#
# CK module request.asplos18: thin actions; the logic lives in the ckrequest library.
#

cfg = {}  # set by CK: this module's meta
work = {}  # set by CK
ck = None  # set by CK: the kernel


def init(i):
    return {'return': 0}


def scoreboard(i):
    """ck scoreboard request.asplos18: one line per recorded point."""
    from ckrequest.ck_module import scoreboard as action
    return action(i)
