#!/usr/bin/env sh
# Stands in for your service: it sends an "order.created" webhook to $WEBHOOK_URL, and retries
# once when the receiver answers 503 (the config makes the bin answer 503 the first time).
set -eu
body='{"type":"order.created","id":"ord_42"}'
for attempt in 1 2; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$WEBHOOK_URL" \
    -H 'content-type: application/json' -H 'x-event: order.created' -H "x-attempt: $attempt" -d "$body")
  [ "$status" = 200 ] && exit 0
  sleep 1
done
exit 1
