#!/usr/bin/env bash
# Stops the OpenStack lab that up.sh started (only its own processes, by the pid files
# it wrote). `--wipe` also deletes its state, so the next up.sh starts from nothing.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${KUMO_OPENSTACK_LAB:-$ROOT/.lab/openstack}
RUN=$LAB/run
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

stop() { # stop NAME: TERM the process group started for NAME, then KILL what remains
  local pidfile=$RUN/$1.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if [ -d "$RUN" ]; then
  for name in nova-compute neutron-linuxbridge-agent nova-api nova-conductor nova-scheduler neutron-server glance placement keystone; do
    stop "$name"
  done
  # RabbitMQ: its own stop, so Erlang's port mapper (epmd, a daemon it spawned) goes too.
  if [ -f "$RUN/rabbit.pid" ]; then
    HOME=$LAB/state/rabbit RABBITMQ_NODENAME=kumo-lab@localhost ERL_EPMD_ADDRESS=127.0.0.1 \
      rabbitmqctl -n kumo-lab@localhost stop >/dev/null 2>&1 || true
    stop rabbit
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
  fi
  if [ -f "$RUN/mysql.pid" ]; then
    mariadb-admin --no-defaults -S "$RUN/mysql.sock" -u root shutdown >/dev/null 2>&1 || true
    stop mysql
  fi
fi
if [ "${1:-}" = "--wipe" ]; then
  rm -rf "$LAB"
  echo "[openstack-lab] stopped and wiped $LAB"
else
  echo "[openstack-lab] stopped (state kept in $LAB; --wipe removes it)"
fi
