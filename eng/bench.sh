#!/usr/bin/env bash
# Prints the benchmark figures (request counts are exact; times depend on the machine). Not part of CI.
#   eng/bench.sh [users]     default 2000
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"
BINDING=$(choose_service_bus_binding)
dotnet build bench/ScimFunctions.Benchmarks -c Release -p:ServiceBusBinding="$BINDING" -nologo -clp:ErrorsOnly >/dev/null
start_azurite >/dev/null
dotnet bench/ScimFunctions.Benchmarks/bin/Release/net10.0/ScimFunctions.Benchmarks.dll "${1:-2000}"
