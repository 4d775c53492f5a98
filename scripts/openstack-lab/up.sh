#!/usr/bin/env bash
# Starts a minimal real OpenStack on 127.0.0.1 from Debian 12's packages (Zed):
# MariaDB, RabbitMQ, Keystone, Glance (file store), Placement, Nova (api, conductor,
# scheduler, compute with the fake virt driver), Neutron (ML2 + linuxbridge agent).
# Then creates what kumo's tests use: a project and user, a quota-less project,
# flavors, tiny images, a tenant network, an external network, and writes
# .lab/openstack/clouds.yaml and .lab/openstack/env.
#
# Re-runnable: installed packages, initialised databases and running services are
# kept. Everything lives under $KUMO_OPENSTACK_LAB (default .lab/openstack); stop with
# down.sh (which keeps state unless given --wipe).
#
# Facts this relies on: ../../../shared/labs/openstack.md (trial runs on this machine kind).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${KUMO_OPENSTACK_LAB:-$ROOT/.lab/openstack}
mkdir -p "$LAB"
LAB=$(cd "$LAB" && pwd)
ETC=$LAB/etc
RUN=$LAB/run
LOG=$LAB/log
# NOTE: the python3 on PATH may be a pyenv shim without the OpenStack libraries.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$ETC" "$RUN" "$LOG" "$LAB/state" "$LAB/images" "$LAB/locks"

HOST=kumo-lab                # nova's and the linuxbridge agent's host name: must match for port binding
DBPASS=kumo-lab-db           # lab-only credentials, loopback only
SVCPASS=kumo-lab-service
ADMINPASS=kumo-lab-admin
USERPASS=kumo-lab-user
MYSQL_PORT=${KUMO_OPENSTACK_MYSQL_PORT:-13306}
RABBIT_PORT=${KUMO_OPENSTACK_RABBIT_PORT:-15673}
KEYSTONE=http://127.0.0.1:5000
START=$(date +%s)

say() { printf '[openstack-lab %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
die() { say "ERROR: $*"; exit 1; }

# --- 1. packages ----------------------------------------------------------------
PACKAGES=(keystone glance-api placement-api nova-api nova-conductor nova-scheduler nova-compute
  nova-compute-ironic neutron-server neutron-linuxbridge-agent python3-openstackclient
  rabbitmq-server mariadb-server python3-pymysql uwsgi-plugin-python3 curl iproute2 sudo jq)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${#missing[@]} packages: ${missing[*]}"
  # Maintainer scripts start services through invoke-rc.d; a policy-rc.d that exits 101 stops that.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get update -q >"$LOG/apt.log" 2>&1 || die "apt-get update failed (see $LOG/apt.log)"
  # NOTE: nova-compute needs some hypervisor package; nova-compute-ironic is the lightest (no libvirt).
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}" >>"$LOG/apt.log" 2>&1 \
    || die "apt-get install failed (see $LOG/apt.log)"
  say "packages installed"
fi

# --- helpers ----------------------------------------------------------------------
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
# start NAME CMD…: runs CMD in its own session (so down.sh can end its whole process group).
start() {
  local name=$1; shift
  if alive "$name"; then return 0; fi
  setsid "$@" >>"$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
# wait_for WHAT SECONDS CMD…: polls CMD until it succeeds.
wait_for() {
  local what=$1 limit=$2; shift 2
  local t0; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if [ $(( $(date +%s) - t0 )) -ge "$limit" ]; then die "$what not ready after ${limit}s (logs in $LOG)"; fi
    sleep 1
  done
}
http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }
sql() { mariadb --no-defaults -S "$RUN/mysql.sock" -u root "$@"; }

# --- 2. MariaDB (private instance) -----------------------------------------------
if [ ! -d "$LAB/state/mysql/mysql" ]; then
  say "initialising MariaDB"
  mkdir -p "$LAB/state/mysql"
  mariadb-install-db --no-defaults --datadir="$LAB/state/mysql" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$LOG/mysql-init.log" 2>&1
fi
start mysql mariadbd --no-defaults --user=root --datadir="$LAB/state/mysql" --socket="$RUN/mysql.sock" \
  --pid-file="$RUN/mysqld.pid" --bind-address=127.0.0.1 --port="$MYSQL_PORT" --skip-name-resolve \
  --max-connections=500 --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
  --log-error="$LOG/mysql-error.log"

# --- 3. RabbitMQ -----------------------------------------------------------------
mkdir -p "$LAB/state/rabbit"
export RABBITMQ_NODENAME=kumo-lab@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT \
  RABBITMQ_DIST_PORT=$((RABBIT_PORT + 20000)) ERL_EPMD_ADDRESS=127.0.0.1 \
  RABBITMQ_MNESIA_BASE=$LAB/state/rabbit/mnesia RABBITMQ_LOG_BASE=$LOG/rabbit \
  RABBITMQ_PID_FILE=$RUN/rabbit-server.pid RABBITMQ_ENABLED_PLUGINS_FILE=$LAB/state/rabbit/enabled_plugins \
  RABBITMQ_CONFIG_FILE=$ETC/rabbitmq RABBITMQ_ADVANCED_CONFIG_FILE=$ETC/rabbitmq-advanced.config \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" HOME=$LAB/state/rabbit
[ -f "$LAB/state/rabbit/enabled_plugins" ] || echo '[].' > "$LAB/state/rabbit/enabled_plugins"
printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$RABBIT_PORT" > "$ETC/rabbitmq.conf"
echo '[].' > "$ETC/rabbitmq-advanced.config"
start rabbit /usr/lib/rabbitmq/bin/rabbitmq-server
TRANSPORT=rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/

wait_for "MariaDB" 60 sql -e 'select 1'
say "MariaDB up"
for db in keystone glance placement nova_api nova nova_cell0 neutron; do
  sql -e "CREATE DATABASE IF NOT EXISTS $db; GRANT ALL ON $db.* TO 'kumo'@'127.0.0.1' IDENTIFIED BY '$DBPASS';"
done
dburl() { echo "mysql+pymysql://kumo:$DBPASS@127.0.0.1:$MYSQL_PORT/$1"; }

# --- 4. configuration files --------------------------------------------------------
authtoken() { # authtoken USER: the keystonemiddleware + service-user section body
  cat <<EOF
www_authenticate_uri = $KEYSTONE/
auth_url = $KEYSTONE/
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SVCPASS
service_token_roles_required = true
EOF
}
service_auth() { # like authtoken, for calls a service makes to another
  cat <<EOF
auth_url = $KEYSTONE/
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SVCPASS
region_name = RegionOne
EOF
}

cat > "$ETC/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOG/keystone-app.log
[database]
connection = $(dburl keystone)
[token]
provider = fernet
[identity]
# NOTE: bcrypt's default 12 rounds cost ~0.3 s of CPU per password check; 4 is plenty on loopback.
password_hash_rounds = 4
[fernet_tokens]
key_repository = $LAB/state/fernet-keys
[credential]
key_repository = $LAB/state/credential-keys
[oslo_concurrency]
lock_path = $LAB/locks
EOF

cat > "$ETC/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
log_file = $LOG/glance-app.log
enabled_backends = fs:file
[database]
connection = $(dburl glance)
[keystone_authtoken]
$(authtoken glance)
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $LAB/images/
[os_glance_staging_store]
filesystem_store_datadir = $LAB/state/glance-staging/
[os_glance_tasks_store]
filesystem_store_datadir = $LAB/state/glance-tasks/
[oslo_concurrency]
lock_path = $LAB/locks
EOF
mkdir -p "$LAB/state/glance-staging" "$LAB/state/glance-tasks"

cat > "$ETC/placement.conf" <<EOF
[DEFAULT]
log_file = $LOG/placement-app.log
[placement_database]
connection = $(dburl placement)
[api]
auth_strategy = keystone
[keystone_authtoken]
$(authtoken placement)
EOF

# NOTE: a small [api] max_limit makes the lab paginate, so kumo's pagination runs for real.
nova_common() {
  cat <<EOF
[DEFAULT]
host = $HOST
my_ip = 127.0.0.1
state_path = $LAB/state/nova
transport_url = $TRANSPORT
compute_driver = fake.FakeDriver
heal_instance_info_cache_interval = -1
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_workers = 1
log_file = $LOG/$1-app.log
[api]
auth_strategy = keystone
max_limit = 25
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[keystone_authtoken]
$(authtoken nova)
[placement]
$(service_auth placement)
[neutron]
$(service_auth neutron)
[glance]
region_name = RegionOne
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[vnc]
enabled = false
[oslo_concurrency]
lock_path = $LAB/locks
[quota]
instances = 10
EOF
}
{ nova_common nova; cat <<EOF
[api_database]
connection = $(dburl nova_api)
[database]
connection = $(dburl nova)
EOF
} > "$ETC/nova.conf"
# NOTE: nova-compute must not see [database]/[api_database] ("No DB access allowed in nova-compute").
nova_common nova-compute > "$ETC/nova-compute.conf"
mkdir -p "$LAB/state/nova"

cat > "$ETC/neutron.conf" <<EOF
[DEFAULT]
host = $HOST
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $TRANSPORT
# NOTE: two API workers: Nova's server lists ask Neutron for ports and security groups,
# and with one worker those queries starve nova-compute's port bindings.
api_workers = 2
rpc_workers = 1
rpc_state_report_workers = 0
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
api_paste_config = /etc/neutron/api-paste.ini
state_path = $LAB/state/neutron
log_file = $LOG/neutron-app.log
[database]
connection = $(dburl neutron)
[keystone_authtoken]
$(authtoken neutron)
[nova]
$(service_auth nova)
[experimental]
linuxbridge = true
[oslo_concurrency]
lock_path = $LAB/locks
[agent]
root_helper = sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf
EOF
cat > "$ETC/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,vlan,vxlan
tenant_network_types = local
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[securitygroup]
enable_security_group = true
firewall_driver = noop
EOF
cat > "$ETC/linuxbridge_agent.ini" <<EOF
[DEFAULT]
log_file = $LOG/neutron-linuxbridge-agent-app.log
[linux_bridge]
physical_interface_mappings =
[vxlan]
enable_vxlan = false
[securitygroup]
firewall_driver = noop
enable_security_group = true
[agent]
polling_interval = 5
EOF
mkdir -p "$LAB/state/neutron"

# --- 5. database schemas (in parallel; each is a no-op when current) -----------------
wait_for "RabbitMQ" 90 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RABBIT_PORT"
say "RabbitMQ up"
if [ ! -f "$LAB/state/schemas.done" ]; then
  say "creating database schemas"
  pids=()
  ( keystone-manage --config-file "$ETC/keystone.conf" db_sync ) >"$LOG/db-keystone.log" 2>&1 & pids+=($!)
  ( glance-manage --config-file "$ETC/glance-api.conf" db_sync ) >"$LOG/db-glance.log" 2>&1 & pids+=($!)
  ( placement-manage --config-file "$ETC/placement.conf" db sync ) >"$LOG/db-placement.log" 2>&1 & pids+=($!)
  ( neutron-db-manage --config-file "$ETC/neutron.conf" --config-file "$ETC/ml2_conf.ini" upgrade head ) >"$LOG/db-neutron.log" 2>&1 & pids+=($!)
  ( set -e
    nova-manage --config-file "$ETC/nova.conf" api_db sync
    nova-manage --config-file "$ETC/nova.conf" cell_v2 map_cell0 --database_connection "$(dburl nova_cell0)"
    nova-manage --config-file "$ETC/nova.conf" cell_v2 list_cells | grep -q ' cell1 ' \
      || nova-manage --config-file "$ETC/nova.conf" cell_v2 create_cell --name cell1
    nova-manage --config-file "$ETC/nova.conf" db sync ) >"$LOG/db-nova.log" 2>&1 & pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid" || die "a schema sync failed (see $LOG/db-*.log)"; done
  touch "$LAB/state/schemas.done"
  say "schemas ready"
fi

# --- 6. Keystone -------------------------------------------------------------------------
if [ ! -d "$LAB/state/fernet-keys" ]; then
  mkdir -p "$LAB/state/fernet-keys" "$LAB/state/credential-keys"
  keystone-manage --config-file "$ETC/keystone.conf" fernet_setup --keystone-user root --keystone-group root >"$LOG/fernet.log" 2>&1
  keystone-manage --config-file "$ETC/keystone.conf" credential_setup --keystone-user root --keystone-group root >>"$LOG/fernet.log" 2>&1
fi
# NOTE: "Connection: close" — without it uwsgi resets reused connections (ConnectionResetError 104).
uwsgi_app() { # uwsgi_app NAME PORT WSGI-FILE ENV…
  local name=$1 port=$2 file=$3; shift 3
  start "$name" env "$@" uwsgi --plugins python3 --http-socket "127.0.0.1:$port" --wsgi-file "$file" \
    --add-header Connection:close --buffer-size 65535 --master --processes 1 --threads 4 \
    --enable-threads --die-on-term --lazy-apps --need-app
}
uwsgi_app keystone 5000 /usr/bin/keystone-wsgi-public OS_KEYSTONE_CONFIG_FILES="$ETC/keystone.conf"
wait_for "Keystone" 60 http_ok "$KEYSTONE/v3"
if [ ! -f "$LAB/state/bootstrap.done" ]; then
  keystone-manage --config-file "$ETC/keystone.conf" bootstrap --bootstrap-password "$ADMINPASS" \
    --bootstrap-admin-url "$KEYSTONE/v3/" --bootstrap-internal-url "$KEYSTONE/v3/" \
    --bootstrap-public-url "$KEYSTONE/v3/" --bootstrap-region-id RegionOne >"$LOG/bootstrap.log" 2>&1
  touch "$LAB/state/bootstrap.done"
fi
say "Keystone up"

# --- 7. identity data (REST with one admin token: the CLI costs seconds per call) ----------
TOKEN=
token() {
  TOKEN=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' "$KEYSTONE/v3/auth/tokens" -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$ADMINPASS\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}')
  [ -n "$TOKEN" ] || die "could not get an admin token from Keystone"
}
# api METHOD URL [JSON]: one admin call; prints the body; fails on an HTTP error.
api() {
  local out code
  out=$(curl -sS -w '\n%{http_code}' -X "$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    -H 'OpenStack-API-Version: compute 2.61' "$2" ${3:+-d "$3"})
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then say "$1 $2 → $code: $out"; return 1; fi
  printf '%s' "$out"
}
# id_of URL JQ-PATH: the id of the first item listed, or nothing.
id_of() { api GET "$1" | jq -r "$2 | first | .id // empty"; }
token
if [ ! -f "$LAB/state/identity.done" ]; then
  say "creating services, endpoints, projects and users"
  ensure_project() {
    local id; id=$(id_of "$KEYSTONE/v3/projects?name=$1" .projects)
    [ -n "$id" ] || id=$(api POST "$KEYSTONE/v3/projects" "{\"project\":{\"name\":\"$1\",\"domain_id\":\"default\"}}" | jq -r .project.id)
    echo "$id"
  }
  ensure_user() {
    local id; id=$(id_of "$KEYSTONE/v3/users?name=$1" .users)
    [ -n "$id" ] || id=$(api POST "$KEYSTONE/v3/users" "{\"user\":{\"name\":\"$1\",\"domain_id\":\"default\",\"password\":\"$2\"}}" | jq -r .user.id)
    echo "$id"
  }
  ensure_role() {
    local id; id=$(id_of "$KEYSTONE/v3/roles?name=$1" .roles)
    [ -n "$id" ] || id=$(api POST "$KEYSTONE/v3/roles" "{\"role\":{\"name\":\"$1\"}}" | jq -r .role.id)
    echo "$id"
  }
  grant() { api PUT "$KEYSTONE/v3/projects/$1/users/$2/roles/$3" >/dev/null; }
  SERVICE_PROJECT=$(ensure_project service)
  ADMIN_ROLE=$(ensure_role admin)
  SERVICE_ROLE=$(ensure_role service)
  MEMBER_ROLE=$(ensure_role member)
  for svc in nova:compute:8774/v2.1 neutron:network:9696 glance:image:9292 placement:placement:8778; do
    IFS=: read -r user type path <<<"$svc"
    uid=$(ensure_user "$user" "$SVCPASS")
    grant "$SERVICE_PROJECT" "$uid" "$ADMIN_ROLE"
    grant "$SERVICE_PROJECT" "$uid" "$SERVICE_ROLE"
    sid=$(id_of "$KEYSTONE/v3/services?type=$type" .services)
    if [ -z "$sid" ]; then
      sid=$(api POST "$KEYSTONE/v3/services" "{\"service\":{\"type\":\"$type\",\"name\":\"$user\"}}" | jq -r .service.id)
      for iface in public internal admin; do
        api POST "$KEYSTONE/v3/endpoints" "{\"endpoint\":{\"service_id\":\"$sid\",\"interface\":\"$iface\",\"region_id\":\"RegionOne\",\"url\":\"http://127.0.0.1:$path\"}}" >/dev/null
      done
    fi
  done
  # A role on the Default domain, so domain-scoped tokens can be tested.
  api PUT "$KEYSTONE/v3/domains/default/users/$(ensure_user admin "$ADMINPASS")/roles/$ADMIN_ROLE" >/dev/null
  KUMO_USER=$(ensure_user kumo "$USERPASS")
  for project in kumo kumo-noquota; do
    grant "$(ensure_project "$project")" "$KUMO_USER" "$MEMBER_ROLE"
  done
  touch "$LAB/state/identity.done"
fi
say "identity ready"

# --- 8. the other services (their service users exist now) -----------------------------------------
uwsgi_app placement 8778 /usr/bin/placement-api OS_PLACEMENT_CONFIG_DIR="$ETC" OS_PLACEMENT_CONFIG_FILE=placement.conf
start glance glance-api --config-file "$ETC/glance-api.conf"
start nova-api nova-api --config-file "$ETC/nova.conf"
start nova-conductor nova-conductor --config-file "$ETC/nova.conf"
start nova-scheduler nova-scheduler --config-file "$ETC/nova.conf"
start neutron-server neutron-server --config-file "$ETC/neutron.conf" --config-file "$ETC/ml2_conf.ini"
start neutron-linuxbridge-agent neutron-linuxbridge-agent --config-file "$ETC/neutron.conf" --config-file "$ETC/linuxbridge_agent.ini"

# --- 9. wait for the APIs, then compute --------------------------------------------------------------
wait_for "Placement" 120 http_ok http://127.0.0.1:8778/
wait_for "Glance" 120 http_ok http://127.0.0.1:9292/versions
wait_for "Nova API" 180 http_ok http://127.0.0.1:8774/
wait_for "Neutron" 180 http_ok http://127.0.0.1:9696/
say "APIs answer"
start nova-compute nova-compute --config-file "$ETC/nova-compute.conf"
NOVA=http://127.0.0.1:8774/v2.1
NEUTRON=http://127.0.0.1:9696/v2.0
GLANCE=http://127.0.0.1:9292/v2
compute_up() { api GET "$NOVA/os-services?binary=nova-compute" | jq -e '.services[] | select(.state == "up")' >/dev/null; }
agent_up() { api GET "$NEUTRON/agents?binary=neutron-linuxbridge-agent" | jq -e '.agents[] | select(.alive == true)' >/dev/null; }
wait_for "nova-compute" 180 compute_up
wait_for "linuxbridge agent" 120 agent_up
nova-manage --config-file "$ETC/nova.conf" cell_v2 discover_hosts >"$LOG/discover-hosts.log" 2>&1
hypervisor_up() { api GET "$NOVA/os-hypervisors" | jq -e '.hypervisors | length > 0' >/dev/null; }
wait_for "the fake hypervisor" 60 hypervisor_up
say "compute and agent up"

# --- 10. test data -------------------------------------------------------------------------------------
if [ ! -f "$LAB/state/data.done" ]; then
  say "creating flavors, images, networks and quotas"
  flavors=$(api GET "$NOVA/flavors/detail?is_public=None" | jq -r '.flavors[].name')
  # name vcpus ram-MiB disk-GiB [extra spec]
  while read -r name vcpus ram disk spec; do
    grep -qx "$name" <<<"$flavors" && continue
    fid=$(api POST "$NOVA/flavors" "{\"flavor\":{\"name\":\"$name\",\"id\":\"$name\",\"vcpus\":$vcpus,\"ram\":$ram,\"disk\":$disk,\"os-flavor-access:is_public\":true}}" | jq -r .flavor.id)
    if [ -n "$spec" ]; then
      api POST "$NOVA/flavors/$fid/os-extra_specs" "{\"extra_specs\":{\"${spec%%=*}\":\"${spec#*=}\"}}" >/dev/null
    fi
  done <<'FLAVORS'
kumo.tiny 1 256 1
kumo.small 1 1024 5
kumo.medium 2 4096 20
kumo.large 4 8192 40
kumo.gpu 8 32768 80 resources:VGPU=1
kumo.colossal 64 4000000 10
FLAVORS
  # A tiny image made here (nothing downloaded): the fake driver boots any bytes.
  head -c 1048576 /dev/zero > "$LAB/state/tiny.img"
  image() { # name [os_distro os_version]
    [ -n "$(id_of "$GLANCE/images?name=$1" .images)" ] && return 0
    local props='' id
    [ -n "${2:-}" ] && props=",\"os_distro\":\"$2\",\"os_version\":\"$3\""
    id=$(api POST "$GLANCE/images" "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\",\"visibility\":\"public\",\"architecture\":\"x86_64\"$props}" | jq -r .id)
    curl -fsS -X PUT -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' \
      --data-binary "@$LAB/state/tiny.img" "$GLANCE/images/$id/file" >/dev/null
  }
  image kumo-ubuntu-22.04-lab ubuntu 22.04
  image kumo-cirros-0.6-lab cirros 0.6.2
  image debian-12
  KUMO_PROJECT=$(id_of "$KEYSTONE/v3/projects?name=kumo" .projects)
  NOQUOTA_PROJECT=$(id_of "$KEYSTONE/v3/projects?name=kumo-noquota" .projects)
  # An external network for routers (local type: no traffic leaves this machine).
  if [ -z "$(id_of "$NEUTRON/networks?name=public" .networks)" ]; then
    pub=$(api POST "$NEUTRON/networks" '{"network":{"name":"public","router:external":true,"provider:network_type":"local"}}' | jq -r .network.id)
    api POST "$NEUTRON/subnets" "{\"subnet\":{\"name\":\"public-subnet\",\"network_id\":\"$pub\",\"cidr\":\"203.0.113.0/24\",\"ip_version\":4,\"enable_dhcp\":false}}" >/dev/null
  fi
  # The kumo project's default network.
  if [ -z "$(id_of "$NEUTRON/networks?name=kumo-lab-net" .networks)" ]; then
    net=$(api POST "$NEUTRON/networks" "{\"network\":{\"name\":\"kumo-lab-net\",\"project_id\":\"$KUMO_PROJECT\"}}" | jq -r .network.id)
    api POST "$NEUTRON/subnets" "{\"subnet\":{\"name\":\"kumo-lab-subnet\",\"network_id\":\"$net\",\"project_id\":\"$KUMO_PROJECT\",\"cidr\":\"10.42.0.0/16\",\"ip_version\":4}}" >/dev/null
  fi
  # Room for the contract suite's concurrency case and the 50-server benchmark, and no
  # core/RAM quota, so the colossal flavor fails in the scheduler (NoValidHost), not at
  # the quota check; no instances at all in kumo-noquota, so quota errors come on demand.
  api PUT "$NOVA/os-quota-sets/$KUMO_PROJECT" '{"quota_set":{"instances":300,"cores":-1,"ram":-1,"key_pairs":200}}' >/dev/null
  api PUT "$NEUTRON/quotas/$KUMO_PROJECT" '{"quota":{"network":200,"subnet":200,"port":2000,"router":50,"security_group":200,"security_group_rule":2000}}' >/dev/null
  api PUT "$NOVA/os-quota-sets/$NOQUOTA_PROJECT" '{"quota_set":{"instances":0}}' >/dev/null
  touch "$LAB/state/data.done"
fi

# --- 11. what the tests read ------------------------------------------------------------------------------
cat > "$LAB/clouds.yaml" <<EOF
# Written by scripts/openstack-lab/up.sh for kumo's lab tests. Loopback only.
clouds:
  kumo-lab:
    auth:
      auth_url: $KEYSTONE
      username: kumo
      password: $USERPASS
      project_name: kumo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  kumo-lab-noquota:
    auth:
      auth_url: $KEYSTONE/v3
      username: kumo
      password: $USERPASS
      project_name: kumo-noquota
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  kumo-lab-admin:
    auth:
      auth_url: $KEYSTONE/v3
      username: admin
      password: $ADMINPASS
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
EOF
cat > "$LAB/env" <<EOF
export OS_CLIENT_CONFIG_FILE=$LAB/clouds.yaml
export OS_CLOUD=kumo-lab
export KUMO_OPENSTACK_LAB=$LAB
EOF
say "OpenStack lab ready: source $LAB/env (clouds: kumo-lab, kumo-lab-noquota, kumo-lab-admin)"
