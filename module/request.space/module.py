#
# CK module request.space: named stack spaces for `ck explore request.asplos18 --space=<name>`.
# Entries are data (.cm/meta.json: {"space": {...}}, the format of README.md's "Exploring a space");
# the one action is ckrequest/ck/actions/space_show.py.
#

cfg = {}  # set by CK: this module's meta
work = {}  # set by CK
ck = None  # set by CK: the kernel


def init(i):
    return {'return': 0}


def show(i):
    """ck show request.space:<name>: the space checked, its dimensions and how many stacks it holds."""
    from ckrequest.ck.module import call
    return call('space_show', i)
