#!/usr/bin/env bash
# The chaos run at full size (issue 13): a tenant and a stream of notifications through the queue (sessions) and
# ProvisionObject on three instances, timers firing, faults drawn from the seed (tests/ScimFunctions.ConcurrencyTests/Chaos).
#   eng/chaos.sh [seed] [users] [notifications]     defaults: 20261201 2000 10000
#   CHAOS_SKIP_BUILD=1  reuse an existing Release build
#   CHAOS_TABLES=memory the in-memory tables (answering 503 for the outage) instead of the default: a real Azurite
#                       (eng/tools), stopped with SIGINT mid-run (it saves its data) and started again on the same
#                       port and data folder two minutes of the run's clock later. eng/test.sh's short run uses memory.
# Prints exactly one JSON line (items, applied, retried, deadLettered by reason, lost, duplicateTargetUsers,
# wronglyDisabledOrDeleted, unmanagedTouched, throttlesSurfacedAsFailures, secondsToQuiescence, seed, ...) and
# exits non-zero when a promise broke (the first problems follow the line). eng/test.sh runs a short version.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"

SEED="${1:-20261201}"
USERS="${2:-2000}"
NOTIFICATIONS="${3:-10000}"
for value in "$SEED" "$USERS" "$NOTIFICATIONS"; do
  case "$value" in ''|*[!0-9]*) echo "usage: eng/chaos.sh [seed] [users] [notifications]  (positive numbers, got '$value')" >&2; exit 2 ;; esac
done

BINDING=$(choose_service_bus_binding)
if [ "${CHAOS_SKIP_BUILD:-0}" != 1 ]; then
  log "Building tests/ScimFunctions.ConcurrencyTests (Release, Service Bus binding: $BINDING)"
  dotnet build tests/ScimFunctions.ConcurrencyTests -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly
fi

TABLES="${CHAOS_TABLES:-azurite}"
case "$TABLES" in
  azurite) install_tools ;;
  memory) ;;
  *) echo "CHAOS_TABLES must be azurite or memory, got '$TABLES'" >&2; exit 2 ;;
esac

out=$(mktemp)
status=0
log "Chaos run: seed $SEED, $USERS users, $NOTIFICATIONS notifications, tables: $TABLES"
CHAOS_TABLES="$TABLES" CHAOS_SEED="$SEED" CHAOS_USERS="$USERS" CHAOS_NOTIFICATIONS="$NOTIFICATIONS" \
  dotnet test tests/ScimFunctions.ConcurrencyTests -c Release --no-build -p:ServiceBusBinding="$BINDING" -nologo \
    --filter "FullyQualifiedName~ScimFunctions.ConcurrencyTests.Chaos" --logger "console;verbosity=normal" >"$out" 2>&1 || status=1
line=$(grep -o 'CHAOS {.*' "$out" | head -1 | sed 's/^CHAOS //' || true)
if [ -z "$line" ]; then
  # No figures: the run itself failed (a schedule that blocked, Azurite that would not start); say why first.
  grep -A4 'Error Message' "$out" | head -12 >&2 || true
  tail -40 "$out" >&2
  rm -f "$out"
  exit 1
fi
echo "$line"
if [ "$status" -ne 0 ]; then
  grep -o 'CHAOS-DETAIL .*' "$out" | head -20 >&2 || true
fi
rm -f "$out"
exit $status
