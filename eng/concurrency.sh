#!/usr/bin/env bash
# Explores more interleavings of the engine than eng/test.sh does: every scenario of
# tests/ScimFunctions.ConcurrencyTests under ITERATIONS schedules (seeds 1..ITERATIONS; default 2000).
# A failing scenario prints the seed that reproduces it; replay it with
#   CONCURRENCY_SEED=<seed> dotnet test tests/ScimFunctions.ConcurrencyTests -c Release --filter <Scenario>
#   CONCURRENCY_SKIP_BUILD=1  reuse an existing Release build
# Ends with exactly one line: concurrency: S scenarios, N schedules, B bugs, T s
# (B: scenarios in which a schedule broke an invariant; a scenario's exploration stops at its first failing seed)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"

ITERATIONS="${1:-2000}"
case "$ITERATIONS" in ''|*[!0-9]*) echo "usage: eng/concurrency.sh [iterations]  (a positive number, got '$ITERATIONS')" >&2; exit 2 ;; esac
[ "$ITERATIONS" -gt 0 ] || { echo "usage: eng/concurrency.sh [iterations]  (a positive number)" >&2; exit 2; }

BINDING=$(choose_service_bus_binding)
if [ "${CONCURRENCY_SKIP_BUILD:-0}" != 1 ]; then
  log "Building tests/ScimFunctions.ConcurrencyTests (Release, Service Bus binding: $BINDING)"
  dotnet build tests/ScimFunctions.ConcurrencyTests -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly
fi

stats=$(mktemp)
started=$(date +%s)
status=0
log "Exploring $ITERATIONS schedules per scenario"
CONCURRENCY_ITERATIONS="$ITERATIONS" CONCURRENCY_STATS="$stats" \
  dotnet test tests/ScimFunctions.ConcurrencyTests -c Release --no-build -p:ServiceBusBinding="$BINDING" -nologo \
    --filter "FullyQualifiedName~ScimFunctions.ConcurrencyTests.Scenarios" --logger "console;verbosity=minimal" || status=1
elapsed=$(( $(date +%s) - started ))

# One line per scenario in the stats file: name schedules bugs seconds.
read -r scenarios schedules bugs < <(awk '{s++; n+=$2; b+=$3} END {print s+0, n+0, b+0}' "$stats")
rm -f "$stats"
if [ "$scenarios" -eq 0 ]; then
  status=1
fi
echo "concurrency: $scenarios scenarios, $schedules schedules, $bugs bugs, $elapsed s"
exit $status
