#! /bin/bash
# Shared by the model-* packages: the model their meta and variations name (logic in ckrequest.zoo).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" model \
  --format "${CK_REQUEST_MODEL_FORMAT}" --arch "${CK_REQUEST_ARCH}" --weights "${CK_REQUEST_WEIGHTS}" \
  --precision "${CK_REQUEST_PRECISION}" --multiplier "${CK_REQUEST_MULTIPLIER}" \
  --resolution "${CK_REQUEST_RESOLUTION}" --seed "${CK_REQUEST_SEED}" \
  --weights-file "${CK_REQUEST_WEIGHTS_FILE}" --out "${INSTALL_DIR}"
