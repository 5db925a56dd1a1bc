#!/usr/bin/env bash
# The one test command: installs what the tests need, starts Azurite, runs every test, stops what it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"

BINDING=$(choose_service_bus_binding)
if [ "$BINDING" = standin ]; then
  log "Service Bus binding: standin (Microsoft.Azure.Functions.Worker.Extensions.ServiceBus cannot be restored from this machine's NuGet feed)"
else
  log "Service Bus binding: package (the official Microsoft.Azure.Functions.Worker.Extensions.ServiceBus)"
fi

log "Building ScimFunctions.sln"
dotnet build ScimFunctions.sln -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly

start_azurite

results="$ROOT/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
for project in tests/ScimFunctions.Tests tests/ScimFunctions.IntegrationTests tests/ScimFunctions.ConcurrencyTests; do
  name=$(basename "$project")
  log "Testing $name"
  if ! dotnet test "$project" -c Release --no-build -p:ServiceBusBinding="$BINDING" -nologo \
      --logger "console;verbosity=minimal" --logger "trx;LogFileName=$name.trx" --results-directory "$results"; then
    status=1
  fi
done

# The concurrency scenarios above ran their bounded number of schedules (a few thousand in all);
# eng/concurrency.sh runs more. The short chaos run ran with them (asserting lost, duplicates, wrongly removed,
# unmanaged touched and surfaced throttles all 0); its figures, read from the TRX (eng/chaos.sh runs the long one):
python3 - "$results/ScimFunctions.ConcurrencyTests.trx" <<'PY' || true
import sys, re
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'\{(?:&quot;|")items(?:&quot;|").*?(?:&quot;|")stream(?:&quot;|"):\{[^}]*\}\}', text)
print("chaos (short): " + (m.group(0).replace("&quot;", '"') if m else "no figures found"))
PY

# The quick start itself, on the build above (its own Azurite and emulator).
log "Running the quick start (eng/quickstart.sh)"
if ! QUICKSTART_SKIP_BUILD=1 "$ROOT/eng/quickstart.sh"; then
  log "The quick start failed"
  status=1
fi

# One closing line over both projects, read from the TRX files.
python3 - "$results" <<'PY' || status=1
import sys, glob, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error")) + int(c.get("timeout"))
    skipped += int(c.get("notExecuted"))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
PY
exit $status
