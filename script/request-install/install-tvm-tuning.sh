#! /bin/bash
# A MetaSchedule tuning database for the package's model dependency (logic in ckrequest.backends.tvm_tuning).
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" tvm-tuning \
  --model-info "${CK_ENV_MODEL_INFO}" --trials "${CK_REQUEST_TVM_TRIALS}" \
  --trials-per-round "${CK_REQUEST_TVM_TRIALS_PER_ROUND}" --batch "${CK_REQUEST_TVM_BATCH}" \
  --search "${CK_REQUEST_TVM_SEARCH}" --population "${CK_REQUEST_TVM_POPULATION}" --out "${INSTALL_DIR}"
