"""Run script of a request-<framework>-classification program: CK calls it from the program's folder.

The program's name picks the backend (ckrequest/backends/<framework>.py); CK_REQUEST_MODE picks
performance or accuracy.
"""
import sys
from pathlib import Path

from ckrequest.ck.program import main

sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
