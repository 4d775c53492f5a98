#!/usr/bin/env bash
# Brings up a standalone OpenStack Ironic from Debian's packages on 127.0.0.1 for kumo's
# bare-metal tests: no Keystone (noauth), SQLite, the fake-hardware type, API and
# conductor as two processes talking json-rpc. Enrolls the nodes in nodes.yaml with
# `kumo baremetal enroll` and writes what tests need to $LAB/lab.json.
#
# Re-runnable: a second run stops what the first started, starts from an empty
# database and enrolls again. Stop it with scripts/ironic-lab/down.sh.
#
# Environment (all optional):
#   KUMO_IRONIC_LAB_DIR   state, config and logs (default: <repo>/.lab/ironic)
#   KUMO_IRONIC_PORT      API port (default 6385)
#   KUMO_IRONIC_RPC_PORT  conductor json-rpc port (default 8089)
#   KUMO_IRONIC_MODE      json-rpc (two processes, default) or single (one `ironic` process)
#   KUMO_IRONIC_DEPLOY_DELAY / _POWER_DELAY  fake driver delays: whole seconds, or "min,max"
#                         (a random wait between, weighted to min)
#   KUMO_IRONIC_NODES     the nodes file to enroll (default: scripts/ironic-lab/nodes.yaml)
#   KUMO_IRONIC_ENROLL    0 to start Ironic with no nodes
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${KUMO_IRONIC_LAB_DIR:-$REPO/.lab/ironic}
PORT=${KUMO_IRONIC_PORT:-6385}
RPC_PORT=${KUMO_IRONIC_RPC_PORT:-8089}
MODE=${KUMO_IRONIC_MODE:-json-rpc}
NODES=${KUMO_IRONIC_NODES:-$HERE/nodes.yaml}
ENROLL=${KUMO_IRONIC_ENROLL:-1}
DEPLOY_DELAY=${KUMO_IRONIC_DEPLOY_DELAY:-0,2}
POWER_DELAY=${KUMO_IRONIC_POWER_DELAY:-0,1}
ENDPOINT="http://127.0.0.1:$PORT"
# Debian's Python, whatever python3 is first on PATH (pyenv and friends lack Ironic's modules).
PY=/usr/bin/python3

log() { printf '[ironic-lab] %s\n' "$*"; }
die() { printf '[ironic-lab] error: %s\n' "$*" >&2; exit 1; }

case "$MODE" in json-rpc | single) ;; *) die "KUMO_IRONIC_MODE must be json-rpc or single, not \"$MODE\"" ;; esac

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "installing packages needs root (or sudo): $*"
  fi
}

install_packages() {
  if command -v ironic-api >/dev/null && command -v ironic-conductor >/dev/null && command -v ironic-dbsync >/dev/null; then
    log "Ironic packages already installed ($(dpkg-query -W -f='${Version}' ironic-common 2>/dev/null || echo '?'))"
    return
  fi
  # NOTE: the packages' maintainer scripts start the services through invoke-rc.d;
  # policy-rc.d exiting 101 forbids that, so only our own processes run. We put one in
  # place only when the machine has none, and take ours away afterwards.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  log "installing ironic-api ironic-conductor python3-ironicclient from Debian (first time ~1 min)"
  # Lock::Timeout: other jobs on this machine may be installing packages at the same time.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
    --no-install-recommends ironic-api ironic-conductor python3-ironicclient
  if [ "$own_policy" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
}

write_config() {
  local rpc
  if [ "$MODE" = single ]; then
    rpc="rpc_transport = none"
  else
    rpc="rpc_transport = json-rpc"
  fi
  cat >"$LAB/ironic.conf" <<CONF
# Written by scripts/ironic-lab/up.sh; rewritten on every run.
[DEFAULT]
# NOTE: with json-rpc the API finds the conductor by this host name; the machine's own
# name would not resolve to the loopback conductor (HTTP 500 on every state change).
host = 127.0.0.1
auth_strategy = noauth
$rpc
log_dir = $LAB/log
use_stderr = false
debug = false
enabled_hardware_types = fake-hardware
enabled_boot_interfaces = fake
# custom-agent waits for a deploy ramdisk that never calls back here: the lab's
# "agent" nodes use it to fail deploys the way real ones do (wait call-back → timeout).
enabled_deploy_interfaces = fake,custom-agent
default_deploy_interface = fake
enabled_management_interfaces = fake
enabled_power_interfaces = fake
enabled_bios_interfaces = no-bios,fake
enabled_console_interfaces = no-console,fake
enabled_inspect_interfaces = no-inspect,fake
enabled_raid_interfaces = no-raid,fake
enabled_rescue_interfaces = no-rescue,fake
enabled_vendor_interfaces = no-vendor,fake
enabled_network_interfaces = noop
enabled_storage_interfaces = noop
default_network_interface = noop
default_resource_class = baremetal

[api]
host_ip = 127.0.0.1
port = $PORT
api_workers = 1

[json_rpc]
auth_strategy = noauth
host_ip = 127.0.0.1
port = $RPC_PORT

[database]
connection = sqlite:///$LAB/ironic.sqlite

[dhcp]
dhcp_provider = none

[nova]
send_power_notifications = false

[oslo_concurrency]
lock_path = $LAB/lock

[conductor]
automated_clean = true
# Take a busy node's lock once and answer 409 "locked" at once (the default waits 3 × 1 s
# inside the conductor), so clients meet the NodeLocked errors a busy Ironic gives.
node_locked_retry_attempts = ${KUMO_IRONIC_LOCK_ATTEMPTS:-1}
deploy_callback_timeout = ${KUMO_IRONIC_CALLBACK_TIMEOUT:-6}
check_provision_state_interval = 2
# The fake driver never powers nodes on its own; keep the periodic sync quiet.
sync_power_state_interval = 600
heartbeat_interval = 5

[service_catalog]
# The address a deploy ramdisk would call back to (custom-agent nodes need one).
auth_type = none
endpoint_override = $ENDPOINT

[fake]
power_delay = $POWER_DELAY
deploy_delay = $DEPLOY_DELAY
boot_delay = 0
management_delay = 0
CONF
}

start_process() { # name, command...
  local name=$1
  shift
  setsid nohup "$@" >"$LAB/log/$name.out" 2>&1 </dev/null &
  echo $! >"$LAB/$name.pid"
  log "started $name (pid $!)"
}

wait_healthy() {
  local deadline=$((SECONDS + 90))
  until curl -fs -o /dev/null "$ENDPOINT/"; do
    [ $SECONDS -lt $deadline ] || die "the API did not answer on $ENDPOINT within 90 s; see $LAB/log"
    for pidfile in "$LAB"/*.pid; do
      kill -0 "$(cat "$pidfile")" 2>/dev/null || die "$(basename "$pidfile" .pid) exited; last log lines:$(printf '\n'; tail -n 20 "$LAB/log/$(basename "$pidfile" .pid).out")"
    done
    sleep 0.5
  done
  # The API answers before the conductor has registered; state changes need the conductor.
  until curl -fs -H 'X-OpenStack-Ironic-API-Version: 1.82' "$ENDPOINT/v1/drivers" | grep -q '"fake-hardware"'; do
    [ $SECONDS -lt $deadline ] || die "no conductor registered fake-hardware within 90 s; see $LAB/log"
    sleep 0.5
  done
  log "healthy at $ENDPOINT ($(curl -fsS "$ENDPOINT/" | $PY -c 'import json,sys; v=json.load(sys.stdin)["default_version"]; print("API", v["min_version"], "to", v["version"])'))"
}

main() {
  # One run at a time: a second one would stop the first's Ironic and wipe its database.
  mkdir -p "$LAB"
  exec 9>"$LAB/.up.lock"
  flock -n 9 || die "another up.sh is running on $LAB"
  install_packages
  command -v ironic-api >/dev/null || die "ironic-api is not on PATH after installing"

  "$HERE/down.sh" --quiet || true
  rm -rf "$LAB/log"
  mkdir -p "$LAB/log" "$LAB/lock"
  rm -f "$LAB/ironic.sqlite" "$LAB/ironic.sqlite-wal" "$LAB/ironic.sqlite-shm" "$LAB/lab.json"
  write_config

  log "creating the database"
  ironic-dbsync --config-file "$LAB/ironic.conf" create_schema >"$LAB/log/dbsync.out" 2>&1 ||
    die "ironic-dbsync failed:$(printf '\n'; tail -n 20 "$LAB/log/dbsync.out")"
  # NOTE: API and conductor are two processes writing one SQLite file; write-ahead
  # logging lets readers and the writer proceed together instead of "database is locked".
  $PY -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$LAB/ironic.sqlite"

  if [ "$MODE" = single ]; then
    start_process ironic ironic --config-file "$LAB/ironic.conf"
  else
    start_process ironic-conductor ironic-conductor --config-file "$LAB/ironic.conf"
    start_process ironic-api ironic-api --config-file "$LAB/ironic.conf"
  fi
  wait_healthy

  if [ "$ENROLL" != 0 ]; then
    log "enrolling nodes from ${NODES#"$REPO"/}"
    (cd "$REPO" && node --import tsx src/cli.ts baremetal enroll "$NODES" --endpoint "$ENDPOINT" --concurrency 32 --json \
      >"$LAB/enrolled.json" 2>"$LAB/log/enroll.jsonl") ||
      die "enrolling failed: $(tail -n 3 "$LAB/log/enroll.jsonl")"
  fi

  cat >"$LAB/lab.json" <<JSON
{
  "endpoint": "$ENDPOINT",
  "mode": "$MODE",
  "config": "$LAB/ironic.conf",
  "database": "$LAB/ironic.sqlite",
  "nodesFile": "$NODES",
  "enrolled": "$LAB/enrolled.json",
  "startedAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
  log "ready: $LAB/lab.json"
}

main "$@"
