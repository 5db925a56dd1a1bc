# Shared by eng/test.sh and eng/quickstart.sh: install and start what they need, and stop it again.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/eng/tools"
STARTED_PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

stop_started() {
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  # Azurite can take a minute and more to close after SIGTERM once clients have connected; give each a few seconds.
  local deadline=$((SECONDS + 5))
  for pid in "${STARTED_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# npm packages (Azurite) from the committed lock file.
install_tools() {
  if [ ! -x "$TOOLS/node_modules/.bin/azurite-table" ]; then
    log "Installing Azurite from eng/tools/package-lock.json"
    (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# Starts Azurite (table, blob and queue, in memory) on free ports and exports the endpoints.
start_azurite() {
  install_tools
  local table_port blob_port queue_port
  table_port=$(free_port); blob_port=$(free_port); queue_port=$(free_port)
  local workdir; workdir=$(mktemp -d)
  # Run from a scratch folder: Azurite may still drop small files in its working directory.
  (cd "$workdir" && exec "$TOOLS/node_modules/.bin/azurite" --inMemoryPersistence --silent --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort "$blob_port" \
    --queueHost 127.0.0.1 --queuePort "$queue_port" \
    --tableHost 127.0.0.1 --tablePort "$table_port") >"$workdir/azurite.log" 2>&1 &
  STARTED_PIDS+=($!)
  if ! wait_for_port 127.0.0.1 "$table_port" 30; then
    log "Azurite did not start; its log:"; cat "$workdir/azurite.log"; return 1
  fi
  export AZURITE_TABLE_ENDPOINT="http://127.0.0.1:$table_port/devstoreaccount1"
  # The well-known development account key is public (Azurite's documented default), not a secret.
  export AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table_port/devstoreaccount1;"
  log "Azurite listening (tables on port $table_port)"
}

# package: the official Service Bus worker extension; standin when this machine's feed cannot restore it.
choose_service_bus_binding() {
  if [ -n "${SERVICE_BUS_BINDING:-}" ]; then
    echo "$SERVICE_BUS_BINDING"; return
  fi
  if dotnet restore "$ROOT/src/ScimFunctions/ScimFunctions.csproj" -p:ServiceBusBinding=package >/dev/null 2>&1; then
    echo package
  else
    echo standin
  fi
}
