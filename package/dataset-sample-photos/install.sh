#! /bin/bash
# Copies scikit-image's sample photos and their labels (the CK entry dataset:sample-photos of this
# repository, next to this package) into $INSTALL_DIR.
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" \
  dataset-sample-photos --labels "${PACKAGE_DIR}/../../dataset/sample-photos/val.txt" --out "${INSTALL_DIR}"
