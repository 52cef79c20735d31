#!/usr/bin/env bash
# The Swift API as a user meets it: Examples/Consumer, a separate package in Swift 6 language mode that
# depends on TradeWire by path, must build clean (no warnings from its own code) and run against the
# embedded simulator; and each racy pattern in Examples/Consumer/RacyPatterns must fail to compile with
# the diagnostic its first line names.
set -euo pipefail
cd "$(dirname "$0")/../Examples/Consumer"
SWIFT=${SWIFT:-swift}
log=$(mktemp)
trap 'rm -f "$log"; [ -f Sources/RacyCheck/main.swift.orig ] && mv Sources/RacyCheck/main.swift.orig Sources/RacyCheck/main.swift' EXIT
$SWIFT build --product Consumer 2>&1 | tee "$log" | tail -3
if grep -E "Examples/Consumer/Sources/Consumer/.*(warning|error):" "$log"; then
  echo "check-api: the consumer package does not build clean"; exit 1
fi
./.build/debug/Consumer
cp Sources/RacyCheck/main.swift Sources/RacyCheck/main.swift.orig
failed=0
for f in RacyPatterns/*.swift; do
  expect=$(sed -n 's|^// expect: ||p' "$f" | head -1)
  cp "$f" Sources/RacyCheck/main.swift
  if $SWIFT build --product RacyCheck >"$log" 2>&1; then
    echo "check-api: $f compiled, but it races"; failed=1
  elif grep -q -- "error: .*$expect" "$log"; then
    echo "check-api: $f refused: $(grep -m1 -o -- "error: .*$expect.*" "$log" | cut -c1-160)"
  else
    echo "check-api: $f failed without the expected diagnostic ($expect):"; grep "error:" "$log" | head -5; failed=1
  fi
done
cp Sources/RacyCheck/main.swift.orig Sources/RacyCheck/main.swift
rm -f Sources/RacyCheck/main.swift.orig
exit $failed
