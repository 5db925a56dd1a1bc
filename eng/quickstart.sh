#!/usr/bin/env bash
# The quick start: on a fresh machine, sync the bundled Contoso directory into a local Genesys Cloud emulator,
# then its second day (joiners, movers, a rename, leavers, a re-hire), then the second day again (nothing to write).
# Roles, the division, routing skills and languages come from Entra groups through samples/entitlements.json.
# Starts Azurite and the emulator in the background, stops them on exit, and fails loudly if any step fails.
#   QUICKSTART_SKIP_BUILD=1  reuse an existing Release build (eng/test.sh sets it after building the solution)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT
cd "$ROOT"

fail() { log "QUICK START FAILED: $*"; exit 1; }

command -v dotnet >/dev/null || fail "the .NET SDK is required (see global.json for the version)."
command -v node >/dev/null || fail "Node.js is required (Azurite, the Table Storage emulator, is an npm package)."

SCIMFN="$ROOT/src/ScimFunctions.Cli/bin/Release/net10.0/scimfn.dll"
EMULATOR="$ROOT/tests/GenesysScimEmulator/bin/Release/net10.0/GenesysScimEmulator.dll"
if [ "${QUICKSTART_SKIP_BUILD:-0}" != 1 ]; then
  # Neither project references the Functions app, so the Service Bus binding (choose_service_bus_binding,
  # a slow restore probe on a machine without the package) does not matter here.
  log "Building scimfn and the Genesys emulator (Release)"
  for project in src/ScimFunctions.Cli tests/GenesysScimEmulator; do
    dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q >/dev/null \
      || fail "dotnet build $project failed (run it by hand to see why)."
  done
fi
[ -f "$SCIMFN" ] && [ -f "$EMULATOR" ] || fail "build output missing: $SCIMFN or $EMULATOR (run without QUICKSTART_SKIP_BUILD)."

# Its own Azurite, so the quick start never meets another run's state.
start_azurite

workdir=$(mktemp -d)
port=$(free_port)
log "Starting the Genesys Cloud emulator on 127.0.0.1:$port, seeded with the $(grep -c '"displayName"' samples/emulator-seed.json) groups of samples/emulator-seed.json"
# The emulator's and the client's Genesys-like 300 requests/minute would make the first load take minutes;
# the quick start lifts both limits (see docs/cli.md for real orgs).
Emulator__RateLimitPerMinute=0 Emulator__ClientId=local-client Emulator__ClientSecret=local-secret \
  ASPNETCORE_ENVIRONMENT=Production dotnet "$EMULATOR" --urls "http://127.0.0.1:$port" --seed "$ROOT/samples/emulator-seed.json" >"$workdir/emulator.log" 2>&1 &
STARTED_PIDS+=($!)
if ! wait_for_port 127.0.0.1 "$port" 60; then
  cat "$workdir/emulator.log"; fail "the emulator did not start."
fi

export Scim__RequestsPerMinute=100000
# Its own tables and snapshot memory, whatever this machine's environment holds.
export State__TablePrefix=QuickStart
# Entitlement rules: contact-center groups → Genesys roles, division, routing skills and languages.
Sync__Entitlements="$(cat "$ROOT/samples/entitlements.json")"
export Sync__Entitlements
scimfn() { dotnet "$SCIMFN" "$@"; }
target=(--target genesys --scim-url "http://127.0.0.1:$port/api/v2/scim/v2"
  --genesys-client-id local-client --genesys-client-secret local-secret --genesys-login-url "http://127.0.0.1:$port"
  --state "$AZURITE_CONNECTION_STRING")

# Prints one step's effect from the JSON line and checks it; $1 = step name, $2 = the JSON, $3 = expectation.
summarize() {
  node - "$1" "$2" "$3" <<'JS'
const [step, line, expect] = process.argv.slice(2);
const s = JSON.parse(line);
console.log(`  ${step}:`);
console.log(`    users:  ${s.created} created, ${s.updated} updated, ${s.disabled} disabled, ${s.deleted} deleted, ${s.unchanged} unchanged`);
console.log(`    groups: ${s.groupsUpdated} updated, ${s.membersAdded} members added, ${s.membersRemoved} removed`);
console.log(`    SCIM:   ${s.scimRequests} requests, ${s.scimWrites} writes, in ${(s.elapsedMs / 1000).toFixed(1)} s`);
if ((s.unmatchedGroups || []).length) console.log(`    unmatched groups: ${s.unmatchedGroups.join(", ")}`);
const problems = [];
if (s.failed || s.staged) problems.push(`${s.failed} failed, ${s.staged} staged`);
if (expect === "load" && s.created === 0) problems.push("nothing was created");
if (expect === "changes" && s.created + s.updated + s.disabled === 0) problems.push("no change was applied");
if (expect === "nothing" && (s.scimWrites !== 0 || s.created + s.updated + s.disabled + s.deleted !== 0))
  problems.push(`expected no writes, got ${s.scimWrites}`);
if (problems.length) { console.error(`  ${step}: ${problems.join("; ")}`); process.exit(1); }
JS
}

# Prints what the rules granted, read back from the emulator; fails if nobody holds a rule-given role or skill.
summarize_entitlements() {
  node - "http://127.0.0.1:$port/_emulator/state" <<'JS'
const [url] = process.argv.slice(2);
(async () => {
  const state = await (await fetch(url)).json();
  const ext = "urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User";
  const roles = {}, skills = {}, languages = {}, divisions = {};
  const bump = (m, k) => { m[k] = (m[k] || 0) + 1; };
  for (const u of state.users.filter(u => u.active !== false)) {
    for (const r of u.roles || []) if (r.value !== "employee") bump(roles, r.value);
    for (const s of (u[ext] || {}).routingSkills || []) bump(skills, `${s.name} ${s.proficiency}`);
    for (const l of (u[ext] || {}).routingLanguages || []) bump(languages, `${l.name} ${l.proficiency}`);
    bump(divisions, (u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] || {}).division || "(none)");
  }
  const show = m => Object.entries(m).sort().map(([k, v]) => `${k}: ${v}`).join(", ") || "none";
  console.log(`    entitlements from group rules (active users):`);
  console.log(`      roles:     ${show(roles)}`);
  console.log(`      skills:    ${show(skills)}`);
  console.log(`      languages: ${show(languages)}`);
  console.log(`      divisions: ${show(divisions)}`);
  if (!Object.keys(roles).length || !Object.keys(skills).length) { console.error("  no rule-driven role or skill on the target"); process.exit(1); }
})().catch(e => { console.error(e); process.exit(1); });
JS
}

run_sync() { # step name, snapshot, expectation
  local out rc=0
  out=$(scimfn sync --directory "$2" "${target[@]}" --json) || rc=$?
  [ $rc -eq 0 ] || { printf '%s\n' "$out"; fail "$1: scimfn sync exited with $rc."; }
  summarize "$1" "$(printf '%s\n' "$out" | tail -n 1)" "$3" || fail "$1: unexpected result."
  summarize_entitlements || fail "$1: the entitlement rules were not applied."
}

log "Step 1/3: day 1, the initial load of samples/contoso-day1.json"
run_sync "day 1" samples/contoso-day1.json load

log "Step 2/3: day 2 (joiners, movers, a rename, leavers, a re-hire, queue and language moves); first the plan, then the sync"
scimfn plan --directory samples/contoso-day2.json "${target[@]}" | sed 's/^/    /' || fail "day 2: scimfn plan failed."
run_sync "day 2" samples/contoso-day2.json changes

log "Step 3/3: day 2 again: nothing changed, so nothing is written"
run_sync "day 2 again" samples/contoso-day2.json nothing

log "Quick start finished: the emulator now holds Contoso's day-2 directory, with the roles, division, routing skills and languages its groups give (samples/entitlements.json). Next: docs/cli.md (a real tenant and org)."
