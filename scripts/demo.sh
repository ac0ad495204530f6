#!/bin/sh
# `make demo`: serve the sample app in handlers/, invoke every sample
# function through the Lambda Invoke API with Debian's aws CLI, print what
# came back, show `lambkin check` finding its loops, and stop; then fuzz the sample vulnerable app in
# handlers/vuln for at most 60 s and print its findings table.
# Usage: scripts/demo.sh BUILD_DIR
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
LAMBKIN="$BUILD/lambkin"
AWS=/usr/bin/aws
PORT=${LAMBKIN_DEMO_PORT:-3001}
API_PORT=${LAMBKIN_DEMO_API_PORT:-3000}
URL="http://127.0.0.1:$PORT"
API="http://127.0.0.1:$API_PORT"
WORK=$(mktemp -d)
LOG="$WORK/serve.log"

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true

stop() {
  if [ -n "${PID:-}" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop EXIT INT TERM

"$LAMBKIN" serve -t "$ROOT/handlers/template.yaml" --port "$PORT" \
  --api-port "$API_PORT" --state "$WORK/state" >"$LOG" 2>&1 &
PID=$!
i=0
until curl -fs "$URL/2015-03-31/functions/" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 200 ] || ! kill -0 "$PID" 2>/dev/null; then
    echo "lambkin serve did not start:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.05
done
sed -n '1,/^API Gateway/p' "$LOG"
echo

# invoke NAME PAYLOAD [aws options...]: one real `aws lambda invoke`.
invoke() {
  name=$1 payload=$2
  shift 2
  printf '== %s\n' "$name"
  "$AWS" --endpoint-url "$URL" lambda invoke --function-name "$name" \
    --cli-binary-format raw-in-base64-out --payload "$payload" "$@" \
    --query '[StatusCode,FunctionError]' --output text \
    "$WORK/out.json" | sed 's/^/   status, function error: /'
  printf '   payload: %s\n' "$(head -c 300 "$WORK/out.json")"
}

invoke echo-c '{"hello":"from C"}'
invoke echo-python '{"hello":"from python"}'
invoke echo-node '{"hello":"from node"}'
invoke callback-node '{"style":"callback"}'
invoke esm-node '{"style":"esm"}'
invoke custom-provided '{"runtime":"provided.al2"}'
invoke context-python '{}'
invoke fail-python '{"why":"a handled exception"}'
invoke slow-python '{"sleep":5}'
invoke crash-c '{"segv":true}'
invoke one-python '{"sleep":0.1}'
invoke store-c '{"from":"a C function that calls S3 and SQS"}'

printf '== echo-c again, warm, with --log-type Tail\n'
"$AWS" --endpoint-url "$URL" lambda invoke --function-name echo-c \
  --cli-binary-format raw-in-base64-out --payload '{"warm":true}' \
  --log-type Tail --query LogResult --output text "$WORK/out.json" |
  base64 -d | sed 's/^/   /'

printf '== async (Event) invoke of echo-python\n'
"$AWS" --endpoint-url "$URL" lambda invoke --function-name echo-python \
  --invocation-type Event --cli-binary-format raw-in-base64-out \
  --payload '{"async":true}' --query StatusCode --output text \
  "$WORK/out.json" | sed 's/^/   status: /'

printf '== list-functions\n'
"$AWS" --endpoint-url "$URL" lambda list-functions \
  --query 'Functions[].[FunctionName,Runtime]' --output text | sed 's/^/   /'

echo
echo "== services and event sources, on the same endpoint"
printf 'hello' >"$WORK/photo.jpg"
printf '== aws s3 cp to s3://uploads/in/ (on-upload is subscribed)\n'
"$AWS" --endpoint-url "$URL" s3 cp --no-progress "$WORK/photo.jpg" s3://uploads/in/a.jpg |
  sed 's/^/   /'
"$AWS" --endpoint-url "$URL" s3 ls --recursive s3://uploads | sed 's/^/   /'
printf '== aws sqs send-message to jobs (worker-node is mapped to it)\n'
"$AWS" --endpoint-url "$URL" sqs send-message --queue-url \
  "$URL/123456789012/jobs" --message-body "resize a.jpg" \
  --query MessageId --output text | sed 's/^/   message /'
printf '== aws logs put-log-events with an ERROR (alerter subscribes)\n'
"$AWS" --endpoint-url "$URL" logs create-log-stream \
  --log-group-name /app/events --log-stream-name web-1
"$AWS" --endpoint-url "$URL" logs put-log-events --log-group-name /app/events \
  --log-stream-name web-1 --log-events \
  "timestamp=$(date +%s000),message=ERROR payment declined" >/dev/null
printf '== curl through API Gateway (payload 1.0 and 2.0)\n'
curl -s -o /dev/null -w '   GET /items/42 -> %{http_code}\n' "$API/items/42"
curl -s -w ' <- GET /plain\n' "$API/plain" | sed 's/^/   /'
curl -s -o /dev/null -w '   GET /malformed -> %{http_code}\n' "$API/malformed"

echo
echo "== the bug lambkin exists to catch: a function that triggers itself"
printf '== lambkin check finds the loops in the template, before anything runs\n'
set +e
"$LAMBKIN" check -t "$ROOT/handlers/template.yaml" 2>&1 | grep -F '[loop]' |
  sed "s|^$ROOT/||; s/^/   /"
set -e
printf '== aws s3 cp to s3://photos (thumbnailer writes back into it)\n'
"$AWS" --endpoint-url "$URL" s3 cp --no-progress "$WORK/photo.jpg" s3://photos/cat.jpg |
  sed 's/^/   /'
sleep 2

echo
echo "== lambkin serve output"
cat "$LOG"
echo "== journal: $(grep -c '"id"' "$WORK/state/journal.jsonl") invocations," \
  "$(grep -c '"type":"loop"' "$WORK/state/journal.jsonl") loop(s) recorded"

echo
echo "== lambkin policy: what the functions called, against what their Policies grant"
set +e
"$LAMBKIN" policy -t "$ROOT/handlers/template.yaml" --state "$WORK/state" \
  2>&1 >/dev/null | sed 's/^/   /'
set -e

echo
echo "== lambkin fuzz on the sample vulnerable app (handlers/vuln), 60 s at most"
set +e
"$LAMBKIN" fuzz -t "$ROOT/handlers/vuln/template.yaml" --time 60 \
  --runs 2000 --seed 1 --jobs 1 --out "$WORK/fuzz" \
  --sarif "$WORK/fuzz/report.sarif" --junit "$WORK/fuzz/junit.xml"
rc=$?
set -e
echo "== lambkin fuzz exited $rc (1: findings, as planted)"
