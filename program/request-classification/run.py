"""Run script of a program made from the request-classification template: CK calls it from the tmp folder.

The program's name request-<framework>-classification picks the backend <framework>.
"""
import sys
from pathlib import Path

from ckrequest.program_backends import main

sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
