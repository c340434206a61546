#! /bin/bash
# A MetaSchedule tuning database for the package's model dependency (logic in ckrequest.backends.tvm_tuning,
# which reads the budget from the install variables CK_REQUEST_TVM_*, defaults in its TuningPlan).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" tvm-tuning \
  --model-info "${CK_ENV_MODEL_INFO}" --out "${INSTALL_DIR}"
