#! /bin/bash
# Installs a pinned onnxruntime with pip into $INSTALL_DIR/python (logic in ckrequest.install).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" \
  pip-lib --requirement "${PIP_PACKAGE_NAME}==${PACKAGE_VERSION}" --target "${INSTALL_DIR}/python"
