#!/usr/bin/env sh
# A CI job with hooklab: start it with a fixed bin from a config file, run the system under
# test against the bin's URL, then wait for the webhook it must send. Exit 0 when it came (and
# after the expected retry), non-zero otherwise. Run from the repository root after `npm ci`.
set -eu
PORT=${PORT:-8080}
OUT=${OUT:-.}
export HOOKLAB_SERVER="http://127.0.0.1:$PORT"
BIN=orders-ci-5f2b9c1e7d4a
# node itself, not `npx hooklab`: then $! is the server, and the trap stops it (killing npx
# would leave the server it started running).
# A fresh DATA_DIR unless given one (removed at the end then).
TEMP_DATA=
if [ -z "${DATA_DIR:-}" ]; then TEMP_DATA=$(mktemp -d); fi
DATA_DIR=${DATA_DIR:-$TEMP_DATA} PORT=$PORT node bin/hooklab.js serve --config examples/ci/hooklab.config.json > "$OUT/hooklab.log" 2>&1 &
HOOKLAB_PID=$!
trap 'kill $HOOKLAB_PID 2>/dev/null && wait $HOOKLAB_PID 2>/dev/null; [ -z "$TEMP_DATA" ] || rm -rf "$TEMP_DATA"' EXIT
# Up within 60 s, or the job fails with hooklab's own words (a bad config, a taken port, a
# DATA_DIR in use), not a loop that never ends.
tries=0
until curl -fsS -m 2 "$HOOKLAB_SERVER/api/health" > /dev/null 2>&1; do
  kill -0 $HOOKLAB_PID 2>/dev/null || { echo "hooklab did not start:" >&2; cat "$OUT/hooklab.log" >&2; exit 1; }
  tries=$((tries + 1)); [ $tries -lt 300 ] || { echo "hooklab not up after 60 s; its log: $OUT/hooklab.log" >&2; exit 1; }
  sleep 0.2
done

WEBHOOK_URL="$HOOKLAB_SERVER/h/$BIN" sh examples/ci/system-under-test.sh

# The first attempt got the 503 the plan scripted; the retry must arrive too.
node bin/hooklab.js wait "$BIN" --header x-event:order.created --header x-attempt:2 --q ord_42 --timeout 30s > "$OUT/webhook.json"
echo "webhook received and retried: $(wc -c < "$OUT/webhook.json") bytes in $OUT/webhook.json"
