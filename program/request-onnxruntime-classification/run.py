"""Run script of program:request-onnxruntime-classification: CK calls it from the tmp folder."""
import sys

from ckrequest.harness import main

sys.exit(main(["onnxruntime", *sys.argv[1:]]))
