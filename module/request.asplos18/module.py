#
# CK module request.asplos18: thin actions; each one is ckrequest/actions/<action>.py.
#

cfg = {}  # set by CK: this module's meta
work = {}  # set by CK
ck = None  # set by CK: the kernel


def init(i):
    return {'return': 0}


def _call(action, i):
    from ckrequest.ck.module import call
    return call(action, i)


def scoreboard(i):
    """ck scoreboard request.asplos18: every recorded result side by side."""
    return _call('scoreboard', i)


def dashboard(i):
    """ck dashboard request.asplos18 --output=FILE.html: the interactive scoreboard page."""
    return _call('dashboard', i)


def validate(i):
    """ck validate request.asplos18 --experiment=X: is X reproduced here?"""
    return _call('validate', i)


def check(i):
    """ck check request.asplos18 --experiment=X: is X fit to contribute?"""
    return _call('check', i)


def explore(i):
    """ck explore request.asplos18 --space=S --record_uoa=X: search a space of stacks for its frontier."""
    return _call('explore', i)


def farm(i):
    """ck farm request.asplos18 --model=alexnet --stages=N: a model split over N Ray nodes, measured."""
    return _call('farm', i)


def serve(i):
    """ck serve request.asplos18 [--db=URL] [--host=127.0.0.1] [--port=N]: the live results service."""
    return _call('serve', i)


def submit(i):
    """ck submit request.asplos18 --experiment=X --server=URL: check X, then upload its points."""
    return _call('submit', i)


def pull(i):
    """ck pull request.asplos18 --server=URL --point=ID|--entry=NAME: a served result as a local entry."""
    return _call('pull', i)
