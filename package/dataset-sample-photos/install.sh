#! /bin/bash
# Copies scikit-image's sample photos and this entry's val.txt (labels) into $INSTALL_DIR.
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" \
  dataset-sample-photos --labels "${PACKAGE_DIR}/val.txt" --out "${INSTALL_DIR}"
