#!/usr/bin/env bash
# Stops the Ironic lab that up.sh started (only the processes whose ids it recorded).
# Keeps $LAB (config, database, logs) for a look afterwards; pass --purge to remove it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${KUMO_IRONIC_LAB_DIR:-$REPO/.lab/ironic}
QUIET=0
PURGE=0
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --purge) PURGE=1 ;;
    *) echo "usage: down.sh [--quiet] [--purge]" >&2; exit 2 ;;
  esac
done
log() { [ "$QUIET" = 1 ] || printf '[ironic-lab] %s\n' "$*"; }

stopped=0
for pidfile in "$LAB"/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  name=$(basename "$pidfile" .pid)
  if kill -0 "$pid" 2>/dev/null; then
    # The process leads its own session (setsid in up.sh): signal the group, so worker
    # children go too, and nothing else.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $name (pid $pid)"
    stopped=$((stopped + 1))
  fi
  rm -f "$pidfile"
done
rm -f "$LAB/lab.json"
[ "$stopped" -gt 0 ] || log "nothing was running"
if [ "$PURGE" = 1 ]; then rm -rf "$LAB"; log "removed $LAB"; fi
