"""ck-request: measure, compare and reproduce image-classification inference (ReQuEST@ASPLOS'18)."""

__version__ = "0.1.0"

# UID of module:request.asplos18, the scenario module the original ReQuEST results point to.
SCENARIO_MODULE_UID = "a555738be4b65860"
