#! /bin/bash
# Builds MobileNet-v1 deterministically from a seed (no download): speed only, no accuracy.
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" \
  model-mobilenet-v1-synthetic --out "${INSTALL_DIR}" \
  --multiplier "${CK_REQUEST_MULTIPLIER}" --resolution "${CK_REQUEST_RESOLUTION}" --seed "${CK_REQUEST_SEED}"
