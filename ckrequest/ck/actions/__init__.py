"""The actions of CK module request.asplos18: one file each, ``run(i: dict) -> int`` (exit status).

``i`` is CK's input dict: ``ck scoreboard request.asplos18 --format=csv`` gives
``{"format": "csv", ...}``; flags without a value arrive as ``"yes"``.
"""
