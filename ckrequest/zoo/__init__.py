"""The model zoo: every ReQuEST network as a canonical ONNX graph, from synthetic or real ImageNet weights."""
