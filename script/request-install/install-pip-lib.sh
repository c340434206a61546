#! /bin/bash
# Shared by the lib-* packages: installs the pinned library their meta names (logic in ckrequest.install).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" pip-lib \
  --version "${PACKAGE_VERSION}" --requirements "${PIP_REQUIREMENTS}" \
  --no-deps-requirements "${PIP_NO_DEPS_REQUIREMENTS}" --with-deps "${PIP_WITH_DEPS}" --venv "${PIP_VENV}"
