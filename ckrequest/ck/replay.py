"""The subprocess of `ck validate`'s replay: CK's own replay of one request (see ckrequest.reproduce.replay)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from ..reproduce.replay import ReplayRequest


def main(argv: Sequence[str]) -> int:
    """The subprocess: CK's replay of one request."""
    from . import kernel

    request = ReplayRequest(**json.loads(Path(argv[0]).read_text()))
    result = kernel.replay(request.repo_uid, request.data_uid, request.ck_options())
    if result.get("return", 1) > 0:
        print(f"CK error: [experiment] {result.get('error', 'replay failed')}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
