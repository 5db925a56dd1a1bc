#!/usr/bin/env bash
# Prints the benchmark figures (request counts are exact; times depend on the machine). Not part of CI.
#   eng/bench.sh [users]        default 2000: every section (about 20 minutes; the scale section's sizes as below plus
#                               1,500 and 6,000 users on Azurite)
#   eng/bench.sh worker-start   only the worker start-up figures
#   eng/bench.sh scale [--tables azurite|memory] [sizes]
#                               only the scale figures; without sizes 1,000 and 10,000 users on Azurite, then 1,000,
#                               10,000, 50,000 and 100,000 on the in-memory Table double (about 9 minutes in all)
#   eng/bench.sh latency [changes] [burst]  only the latency, burst (real time: 1,000 at 300/min is 3.3 min) and
#                               per-work-item CPU/allocation figures (defaults 1000 and 1000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"
BINDING=$(choose_service_bus_binding)
dotnet build bench/ScimFunctions.Benchmarks -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly >/dev/null
# The Functions app itself, for the worker start-up figures (started under the host double).
dotnet build src/ScimFunctions -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly >/dev/null
# The emulator's own build, run in its own process for the per-work-item CPU figures.
export SCIMFN_EMULATOR_DLL="$ROOT/tests/GenesysScimEmulator/bin/Release/net10.0/GenesysScimEmulator.dll"
export SCIMFN_APP_DIRECTORY="$ROOT/src/ScimFunctions/bin/Release/net10.0" SCIMFN_SAMPLE_SETTINGS="$ROOT/local.settings.sample.json"
start_azurite >/dev/null
if [ $# -eq 0 ]; then set -- 2000; fi
dotnet bench/ScimFunctions.Benchmarks/bin/Release/net10.0/ScimFunctions.Benchmarks.dll "$@"
