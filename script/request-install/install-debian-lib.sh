#! /bin/bash
# Shared by Debian-based lib-* packages: the packages their meta names, unpacked without root (logic in ckrequest.install).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" debian-lib \
  --packages "${DEBIAN_PACKAGES}" --version "${PACKAGE_VERSION}" --skip "${DEBIAN_SKIP}" --out "${INSTALL_DIR}"
