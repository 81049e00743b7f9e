#!/usr/bin/env bash
# stack.sh - the local Xiaoqu stack: a private MariaDB, xq-api, xq-wxsim (the
# imitation of WeChat's servers) and nginx, all under one var directory. Used
# for development, the demo, the e2e tests and CI.
#
#   bash deploy/stack.sh start|stop|status|restart
#
# Environment:
#   XQ_VAR         state directory (default: <repo>/var; relative = from the cwd)
#   XQ_PORT        nginx port on 127.0.0.1 (default: 8080)
#   XQ_WXSIM_PORT  port of xq-wxsim through nginx (default: XQ_PORT + 10)
#   XQ_METERSIM_PORT  first gateway port of xq-metersim (default: XQ_PORT + 100);
#                  its control port is XQ_PORT + 99, xq-collector's metrics XQ_PORT + 98
#   XQ_WXPAY_KEY_MODE  pubkey (default) or certificate: how the sim's "WeChat"
#                  key is published to clients (wechat-protocols.md section 4)
#   XQ_BUILD       build directory holding cgi/xq-api, sim/wxsim/xq-wxsim and cli/xqctl
#                  (default: <repo>/build)
#   XQ_SKIP_DEPS=1  do not run deploy/install-deps.sh
#   XQ_SKIP_BUILD=1 do not run cmake nor build the console
#   XQ_SKIP_CONSOLE=1 do not build the console (deploy/console-build.sh); nginx
#                   serves console/dist if it exists, else console/placeholder
#   XQ_NO_DEMO=1    do not load the demo data (the admin account is still created)
#   XQ_DEMO_BILL=0  do not bill the month before last after loading the demo
#   XQ_FRESH=1      start from nothing: stop the stack in XQ_VAR and delete its
#                   database, secrets, logs and generated configs first (tests)
#
# xq-metersim (simulated meters behind TCP gateways) and xq-collector (polls
# them into meter_reading) run too; with the demo data, the demo community's
# smart meters get gateways (xq-collector --setup DEMO01), so live readings
# arrive every collector.interval_s (docs/collector.md).
#
# Layout of $XQ_VAR: db/ (datadir), run/ (pid files, sockets), log/, secrets/
# (secrets/wechat/: the demo merchant's and the sim's keys, made once with
# openssl), nginx/ (prefix), my.cnf and xiaoqu.conf (both rewritten on every
# start). xq-wxsim keeps its state in its own database, xiaoqu_wxsim.
# Unix socket paths must fit in 107 bytes; when $XQ_VAR/run is too deep the
# sockets go to /tmp/xq-<hash of $XQ_VAR>/ instead.
#
# `stop` ends exactly the processes `start` started, found by their pid files.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DEFAULT_VAR="$REPO/var"
XQ_VAR=$(realpath -m -- "${XQ_VAR:-$DEFAULT_VAR}")
XQ_BUILD=$(realpath -m -- "${XQ_BUILD:-$REPO/build}")
XQ_PORT=${XQ_PORT:-8080}
# Every path below is absolute; xqctl migrate reads sql/ from the repo root.
cd "$REPO"

ADMIN_USER=admin
ADMIN_PASSWORD='Xiaoqu@2026'
STOP_WAIT_S=10

RUN_DIR="$XQ_VAR/run"
LOG_DIR="$XQ_VAR/log"
DB_DIR="$XQ_VAR/db"
DB_TMP="$XQ_VAR/tmp/mariadb"
SECRETS_DIR="$XQ_VAR/secrets"
NGX_DIR="$XQ_VAR/nginx"
MY_CNF="$XQ_VAR/my.cnf"
CONF="$XQ_VAR/xiaoqu.conf"
PW_FILE="$SECRETS_DIR/db_password"
PID_DB="$RUN_DIR/mariadb.pid"
PID_API="$RUN_DIR/xq-api.pid"
PID_NGX="$RUN_DIR/nginx.pid"
PID_WXSIM="$RUN_DIR/xq-wxsim.pid"
PID_METERSIM="$RUN_DIR/xq-metersim.pid"
PID_COLLECTOR="$RUN_DIR/xq-collector.pid"
METERSIM_BIN="$XQ_BUILD/sim/metersim/xq-metersim"
COLLECTOR_BIN="$XQ_BUILD/collector/xq-collector"
SPOOL_DIR="$XQ_VAR/spool"
API_BIN="$XQ_BUILD/cgi/xq-api"
WXSIM_BIN="$XQ_BUILD/sim/wxsim/xq-wxsim"
WX_DIR="$SECRETS_DIR/wechat"
WXSIM_DB=xiaoqu_wxsim
# The demo mini-program and merchant (fixed, so demo data and docs can name them).
WX_APPID=wx8888888888888888
WX_MCHID=1900000001
XQCTL="$XQ_BUILD/cli/xqctl"

die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'stack: %s\n' "$*"; }

# Shows the end of a log after a failure.
tail_log() {
	if [ -s "$1" ]; then
		printf -- '--- last lines of %s ---\n' "$1" >&2
		tail -n "${2:-30}" "$1" >&2
		printf -- '---\n' >&2
	fi
}

# Paths land in my.cnf and nginx.conf unquoted: keep them to a safe alphabet.
check_path() {
	[[ $2 =~ ^/[A-Za-z0-9_./+,:~-]*$ ]] ||
		die "$1 '$2' contains characters the generated configs cannot carry (use [A-Za-z0-9_./+,:~-])"
}
check_path "repository path" "$REPO"
check_path XQ_VAR "$XQ_VAR"
[ "$XQ_VAR" != / ] || die "XQ_VAR must not be /"
if ! [[ $XQ_PORT =~ ^[0-9]{1,5}$ ]] || [ "$XQ_PORT" -lt 1 ] || [ "$XQ_PORT" -gt 65535 ]; then
	die "XQ_PORT '$XQ_PORT' is not a port number"
fi
XQ_WXSIM_PORT=${XQ_WXSIM_PORT:-$((XQ_PORT + 10))}
if ! [[ $XQ_WXSIM_PORT =~ ^[0-9]{1,5}$ ]] || [ "$XQ_WXSIM_PORT" -lt 1 ] ||
	[ "$XQ_WXSIM_PORT" -gt 65535 ] || [ "$XQ_WXSIM_PORT" -eq "$XQ_PORT" ]; then
	die "XQ_WXSIM_PORT '$XQ_WXSIM_PORT' is not a port number other than XQ_PORT"
fi
XQ_METERSIM_PORT=${XQ_METERSIM_PORT:-$((XQ_PORT + 100))}
if ! [[ $XQ_METERSIM_PORT =~ ^[0-9]{1,5}$ ]] || [ "$XQ_METERSIM_PORT" -lt 1024 ] ||
	[ "$XQ_METERSIM_PORT" -gt 65000 ]; then
	die "XQ_METERSIM_PORT '$XQ_METERSIM_PORT' is not a port number in 1024..65000"
fi
METERSIM_CTL_PORT=$((XQ_PORT + 99))
COLLECTOR_HTTP_PORT=$((XQ_PORT + 98))
XQ_WXPAY_KEY_MODE=${XQ_WXPAY_KEY_MODE:-pubkey}
case $XQ_WXPAY_KEY_MODE in
pubkey | certificate) ;;
*) die "XQ_WXPAY_KEY_MODE '$XQ_WXPAY_KEY_MODE' must be pubkey or certificate" ;;
esac

# sun_path holds 108 bytes including the NUL.
SOCK_DIR="$RUN_DIR"
SOCK_MOVED=0
if [ "$(printf '%s' "$SOCK_DIR/mysqld.sock" | wc -c)" -gt 107 ]; then
	SOCK_DIR="/tmp/xq-$(printf '%s' "$XQ_VAR" | sha256sum | cut -c1-12)"
	SOCK_MOVED=1
fi
DB_SOCK="$SOCK_DIR/mysqld.sock"
API_SOCK="$SOCK_DIR/xq-api.sock"
WXSIM_SOCK="$SOCK_DIR/xq-wxsim.sock"

if [ "$(id -u)" -eq 0 ]; then
	DB_ADMIN=root
	RUN_AS_ROOT=1
else
	DB_ADMIN=$(id -un)
	RUN_AS_ROOT=0
fi

# --- processes -------------------------------------------------------------

# Prints the pid in pid file $1 if that process is alive and is named $2.
# The name check keeps a stale pid file from pointing us at a stranger.
pid_of() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(head -n 1 "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	alive "$pid" || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
	printf '%s\n' "$pid"
}

# kill -0 also succeeds on a zombie; a zombie has finished for our purposes.
alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	# /proc/PID/stat is "pid (comm) state ..."; comm may hold spaces.
	state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid NAME PIDFILE COMM: SIGTERM, wait, then SIGKILL that one pid.
# Returns 0 when it stopped, 1 when there was no pid file, 2 when SIGKILL was
# needed, 3 when the pid file named a process that had already gone.
stop_pid() {
	local name=$1 file=$2 comm=$3 pid i
	if ! pid=$(pid_of "$file" "$comm"); then
		if [ -e "$file" ]; then
			rm -f "$file"
			say "$name: had already exited (stale pid file)"
			return 3
		fi
		say "$name: not running"
		return 1
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		printf 'stack: warning: %s (pid %s) ignored SIGTERM for %ss, sending SIGKILL\n' \
			"$name" "$pid" "$STOP_WAIT_S" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		rm -f "$file"
		say "$name: killed (pid $pid)"
		return 2
	fi
	rm -f "$file"
	say "$name: stopped (pid $pid)"
	return 0
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# Starts a daemon in its own session, detached from our stdio and our lock.
# Output is appended to $1.
spawn() {
	local log=$1
	shift
	setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
}

# --- MariaDB ---------------------------------------------------------------

write_my_cnf() {
	cat >"$MY_CNF" <<EOF
# Generated by deploy/stack.sh on every start: a throw-away dev database.
# Durability is traded for speed here (flush_log_at_trx_commit=2); never copy
# these settings to production.
[mariadbd]
datadir = $DB_DIR
socket = $DB_SOCK
pid-file = $PID_DB
log-error = $LOG_DIR/mariadb.log
# Its own tmpdir: several stacks on one machine collided in the shared /tmp.
tmpdir = $DB_TMP
skip-networking
skip-name-resolve
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 2
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
default-time-zone = '+00:00'

[client]
socket = $DB_SOCK
default-character-set = utf8mb4
EOF
}

db_sql() {
	mariadb --defaults-file="$MY_CNF" -u "$DB_ADMIN" -N -B "$@"
}

db_ready() {
	db_sql -e 'SELECT 1' >/dev/null 2>&1
}

db_init() {
	local marker="$DB_DIR/.xq-installed" args
	[ -f "$marker" ] && return 0
	if [ -d "$DB_DIR" ] && [ -n "$(ls -A "$DB_DIR")" ]; then
		die "$DB_DIR exists but was never fully initialised; remove it and start again"
	fi
	mkdir -p "$DB_DIR" "$DB_TMP"
	# --force skips the hostname lookup, which fails on some CI hosts; we only
	# use localhost accounts. Not passing --user on purpose: with --user the
	# script chowns the system's /usr/lib/mysql/plugin/auth_pam_tool_dir (as
	# root it would take it away from the mysql user). The bootstrap runs as
	# the invoking user anyway, and the server gets --user=root below.
	args=(--no-defaults --force --skip-test-db --datadir="$DB_DIR"
		--auth-root-socket-user="$DB_ADMIN" --tmpdir="$DB_TMP")
	say "initialising MariaDB datadir $DB_DIR"
	if ! mariadb-install-db "${args[@]}" >"$LOG_DIR/mariadb-install.log" 2>&1; then
		tail_log "$LOG_DIR/mariadb-install.log"
		rm -rf "$DB_DIR"
		die "mariadb-install-db failed (full log: $LOG_DIR/mariadb-install.log)"
	fi
	touch "$marker"
}

db_start() {
	local pid user_arg=()
	write_my_cnf
	db_init
	if pid=$(pid_of "$PID_DB" mariadbd); then
		say "MariaDB: already running (pid $pid)"
	else
		rm -f "$PID_DB"
		if [ "$RUN_AS_ROOT" -eq 1 ]; then
			user_arg=(--user=root)
		fi
		spawn "$LOG_DIR/mariadb.log" mariadbd --defaults-file="$MY_CNF" "${user_arg[@]}"
		pid=$!
		say "MariaDB: starting (pid $pid, socket $DB_SOCK)"
	fi
	if ! wait_for 60 db_ready_or_dead "$pid"; then
		tail_log "$LOG_DIR/mariadb.log"
		die "MariaDB did not answer on $DB_SOCK within 60 s"
	fi
	alive "$pid" || { tail_log "$LOG_DIR/mariadb.log"; die "MariaDB exited during startup"; }
}

# True when the server answers, or when it has died (so wait_for stops early).
db_ready_or_dead() {
	db_ready || ! alive "$1"
}

# The application's database and account. The password is generated once and
# re-applied on every start, so the file is always the truth.
db_setup() {
	local pw
	if [ ! -s "$PW_FILE" ]; then
		(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PW_FILE.tmp")
		mv "$PW_FILE.tmp" "$PW_FILE"
		say "generated the database password in $PW_FILE"
	fi
	chmod 600 "$PW_FILE"
	pw=$(head -n 1 "$PW_FILE")
	[[ $pw =~ ^[A-Za-z0-9_.,:+=-]+$ ]] ||
		die "$PW_FILE: password must be one line of [A-Za-z0-9_.,:+=-] (delete the file to regenerate)"
	# Through stdin, so the password never shows in ps.
	db_sql <<EOF || die "could not create the database and its account"
CREATE DATABASE IF NOT EXISTS xiaoqu CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'xiaoqu'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'xiaoqu'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON xiaoqu.* TO 'xiaoqu'@'localhost';
CREATE DATABASE IF NOT EXISTS $WXSIM_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON $WXSIM_DB.* TO 'xiaoqu'@'localhost';
EOF
}

# --- WeChat keys (for xq-wxsim and xq-api) -------------------------------------

# A random certificate serial: 40 upper-case hex digits whose first is 1-7, so
# it prints without a leading zero and stays a positive 20-octet integer.
new_serial() {
	local hex
	hex=$(openssl rand -hex 20 | tr 'a-f' 'A-F')
	printf '%d%s\n' $(($(od -An -N1 -tu1 /dev/urandom) % 7 + 1)) "${hex:1}"
}

# new_cert KEY CERT SUBJECT: an RSA-2048 key (PKCS#8 PEM) and a self-signed
# certificate for it with a fresh serial, unless both exist.
new_cert() {
	local key=$1 cert=$2 subj=$3
	if [ ! -s "$key" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key.tmp" 2>/dev/null &&
			mv "$key.tmp" "$key" || return 1
		rm -f "$cert"
	fi
	if [ ! -s "$cert" ]; then
		openssl req -new -x509 -key "$key" -out "$cert.tmp" -days 3650 -sha256 \
			-set_serial "0x$(new_serial)" -subj "$subj" 2>/dev/null &&
			mv "$cert.tmp" "$cert" || return 1
	fi
}

# Generated once (XQ_FRESH=1 or deleting secrets/wechat/ makes new ones):
#   merchant_key.pem, merchant_cert.pem   the merchant's API key and certificate
#                                          (its serial is wx.merchant_serial)
#   platform_key.pem                       WeChat's private key: only xq-wxsim reads it
#   platform_cert.pem, platform_pubkey.pem what clients verify WeChat with, in
#                                          certificate / public-key mode
#   pub_key_id                             the public key's id, PUB_KEY_ID_...
#   apiv3_key                              the APIv3 key: 32 characters
#   app_secret                             the mini-program's AppSecret
wx_keys() {
	(
		umask 077
		mkdir -p "$WX_DIR"
		new_cert "$WX_DIR/merchant_key.pem" "$WX_DIR/merchant_cert.pem" \
			"/C=CN/O=Xiaoqu Demo Merchant/OU=WeChat Pay API/CN=$WX_MCHID" || exit 1
		new_cert "$WX_DIR/platform_key.pem" "$WX_DIR/platform_cert.pem" \
			"/C=CN/O=Tenpay.com/OU=Tenpay.com CA Center (xq-wxsim)/CN=Tenpay.com Root CA" || exit 1
		if [ ! -s "$WX_DIR/platform_pubkey.pem" ] ||
			[ "$WX_DIR/platform_key.pem" -nt "$WX_DIR/platform_pubkey.pem" ]; then
			openssl pkey -in "$WX_DIR/platform_key.pem" -pubout -out "$WX_DIR/platform_pubkey.pem" || exit 1
		fi
		if [ ! -s "$WX_DIR/pub_key_id" ]; then
			printf 'PUB_KEY_ID_0114232010922024%06d\n' $(($(od -An -N4 -tu4 /dev/urandom) % 1000000)) \
				>"$WX_DIR/pub_key_id"
		fi
		[ -s "$WX_DIR/apiv3_key" ] || openssl rand -hex 16 >"$WX_DIR/apiv3_key" || exit 1
		[ -s "$WX_DIR/app_secret" ] || openssl rand -hex 16 >"$WX_DIR/app_secret" || exit 1
		chmod 600 "$WX_DIR"/*
	) || die "could not generate the WeChat keys in $WX_DIR (is the openssl command installed?)"
}

# Prints the serial of certificate $1 as openssl shows it (upper-case hex).
cert_serial() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

# --- xiaoqu ----------------------------------------------------------------

write_conf() {
	local platform_id platform_pub
	if [ "$XQ_WXPAY_KEY_MODE" = certificate ]; then
		platform_id=$(cert_serial "$WX_DIR/platform_cert.pem")
		platform_pub=$WX_DIR/platform_cert.pem
	else
		platform_id=$(head -n 1 "$WX_DIR/pub_key_id")
		platform_pub=$WX_DIR/platform_pubkey.pem
	fi
	cat >"$CONF" <<EOF
# Generated by deploy/stack.sh on every start. Every key is documented in
# deploy/xiaoqu.conf.example; XQ_* environment variables override this file.
[db]
socket = $DB_SOCK
name = xiaoqu
user = xiaoqu
password_file = $PW_FILE

[api]
socket = $API_SOCK
threads = 4
secure_cookie = false

[log]
level = info

# WeChat: the demo mini-program and merchant, pointed at xq-wxsim.
[wx]
appid = $WX_APPID
app_secret_file = $WX_DIR/app_secret
mchid = $WX_MCHID
merchant_serial = $(cert_serial "$WX_DIR/merchant_cert.pem")
merchant_key_file = $WX_DIR/merchant_key.pem
apiv3_key_file = $WX_DIR/apiv3_key
platform_key_id = $platform_id
platform_pubkey_file = $platform_pub
api_base_url = http://127.0.0.1:$XQ_WXSIM_PORT
pay_base_url = http://127.0.0.1:$XQ_WXSIM_PORT
notify_url = http://127.0.0.1:$XQ_PORT/wxpay/notify

[wxsim]
socket = $WXSIM_SOCK
threads = 4
db_name = $WXSIM_DB
platform_key_file = $WX_DIR/platform_key.pem
platform_cert_file = $WX_DIR/platform_cert.pem
merchant_cert_file = $WX_DIR/merchant_cert.pem

# Simulated meters: one TCP port per building and protocol from base_port.
[metersim]
base_port = $XQ_METERSIM_PORT
control_port = $METERSIM_CTL_PORT
state_file = $RUN_DIR/metersim.state

[collector]
http_port = $COLLECTOR_HTTP_PORT
spool_file = $SPOOL_DIR/collector.spool

# readings area: reader photos (docs/readings.md)
[readings]
photo_dir = $XQ_VAR/photos
EOF
}

need_bin() {
	[ -x "$1" ] || die "$1 not found: build first (cmake -S . -B $XQ_BUILD && cmake --build $XQ_BUILD -j2), or point XQ_BUILD at a build directory"
}

xqctl() {
	"$XQCTL" -c "$CONF" "$@"
}

app_setup() {
	local rc
	need_bin "$XQCTL"
	need_bin "$API_BIN"
	say "applying migrations"
	xqctl migrate || die "xqctl migrate failed"
	# collector area: meter_reading partitions for the coming months (daily maintenance)
	xqctl partitions >/dev/null || die "xqctl partitions failed"
	say "applying xq-wxsim migrations (database $WXSIM_DB)"
	XQ_DB_NAME=$WXSIM_DB xqctl migrate --dir "$REPO/sim/wxsim/sql" ||
		die "xqctl migrate of the $WXSIM_DB database failed"
	rc=0
	XQ_ADMIN_PASSWORD="$ADMIN_PASSWORD" xqctl create-admin "$ADMIN_USER" --role admin || rc=$?
	case $rc in
	0) say "created admin account '$ADMIN_USER'" ;;
	3) say "admin account '$ADMIN_USER' already exists" ;;
	*) die "xqctl create-admin failed (exit $rc)" ;;
	esac
	if [ "${XQ_NO_DEMO:-0}" = 1 ]; then
		say "XQ_NO_DEMO=1: no demo data"
		return 0
	fi
	rc=0
	xqctl demo || rc=$?
	case $rc in
	0) say "loaded the demo data" ;;
	3) say "demo data already present" ;;
	*) die "xqctl demo failed (exit $rc)" ;;
	esac
	# A freshly loaded demo gets the month before last billed (its bills are
	# past their due date by now, so arrears show), leaving last month for
	# `xqctl bill` by hand. XQ_DEMO_BILL=0 skips it.
	if [ "$rc" -eq 0 ] && [ "${XQ_DEMO_BILL:-1}" = 1 ]; then
		local period
		period=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -2 month" +%Y-%m)
		say "billing the demo for $period"
		xqctl bill --period "$period" >/dev/null || die "xqctl bill --period $period failed"
		# Today's late fees, reminders and alert checks on those bills.
		say "running the daily job (late fees, reminders, alerts)"
		xqctl daily >/dev/null || die "xqctl daily failed"
	fi
	# Gateways for the demo's smart meters (a no-op once they are linked).
	need_bin "$COLLECTOR_BIN"
	"$COLLECTOR_BIN" -c "$CONF" --setup DEMO01 || die "xq-collector --setup DEMO01 failed"
}

api_alive_and_listening() {
	alive "$1" && [ -S "$API_SOCK" ]
}

api_start() {
	local pid
	need_bin "$API_BIN"
	if pid=$(pid_of "$PID_API" xq-api); then
		say "xq-api: already running (pid $pid)"
		return 0
	fi
	rm -f "$PID_API" "$API_SOCK"
	# Where the sanitizer check in `stop` starts reading this run's output.
	stat -c %s "$LOG_DIR/xq-api.log" 2>/dev/null >"$RUN_DIR/xq-api.logpos" || echo 0 >"$RUN_DIR/xq-api.logpos"
	spawn "$LOG_DIR/xq-api.log" "$API_BIN" -c "$CONF"
	pid=$!
	echo "$pid" >"$PID_API"
	say "xq-api: starting (pid $pid, socket $API_SOCK)"
	if ! wait_for 30 api_alive_and_listening "$pid" || ! pid_of "$PID_API" xq-api >/dev/null; then
		tail_log "$LOG_DIR/xq-api.log"
		die "xq-api did not come up (log: $LOG_DIR/xq-api.log)"
	fi
}

wxsim_alive_and_listening() {
	alive "$1" && [ -S "$WXSIM_SOCK" ]
}

wxsim_start() {
	local pid
	need_bin "$WXSIM_BIN"
	if pid=$(pid_of "$PID_WXSIM" xq-wxsim); then
		say "xq-wxsim: already running (pid $pid)"
		return 0
	fi
	rm -f "$PID_WXSIM" "$WXSIM_SOCK"
	stat -c %s "$LOG_DIR/xq-wxsim.log" 2>/dev/null >"$RUN_DIR/xq-wxsim.logpos" || echo 0 >"$RUN_DIR/xq-wxsim.logpos"
	spawn "$LOG_DIR/xq-wxsim.log" "$WXSIM_BIN" -c "$CONF"
	pid=$!
	echo "$pid" >"$PID_WXSIM"
	say "xq-wxsim: starting (pid $pid, socket $WXSIM_SOCK)"
	if ! wait_for 30 wxsim_alive_and_listening "$pid" || ! pid_of "$PID_WXSIM" xq-wxsim >/dev/null; then
		tail_log "$LOG_DIR/xq-wxsim.log"
		die "xq-wxsim did not come up (log: $LOG_DIR/xq-wxsim.log)"
	fi
}

# --- meters: xq-metersim and xq-collector ------------------------------------

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# daemon_start NAME PIDFILE BIN PORT: like xq-wxsim, ready when PORT listens.
daemon_start() {
	local name=$1 file=$2 bin=$3 port=$4 pid
	need_bin "$bin"
	if pid=$(pid_of "$file" "$name"); then
		say "$name: already running (pid $pid)"
		return 0
	fi
	rm -f "$file"
	stat -c %s "$LOG_DIR/$name.log" 2>/dev/null >"$RUN_DIR/$name.logpos" || echo 0 >"$RUN_DIR/$name.logpos"
	spawn "$LOG_DIR/$name.log" "$bin" -c "$CONF"
	pid=$!
	echo "$pid" >"$file"
	say "$name: starting (pid $pid, port $port)"
	if ! wait_for 30 daemon_up "$pid" "$port" || ! pid_of "$file" "$name" >/dev/null; then
		tail_log "$LOG_DIR/$name.log"
		die "$name did not come up (log: $LOG_DIR/$name.log)"
	fi
}

daemon_up() {
	alive "$1" && port_open "$2"
}

meters_start() {
	mkdir -p "$SPOOL_DIR"
	daemon_start xq-metersim "$PID_METERSIM" "$METERSIM_BIN" "$METERSIM_CTL_PORT"
	daemon_start xq-collector "$PID_COLLECTOR" "$COLLECTOR_BIN" "$COLLECTOR_HTTP_PORT"
}

# --- nginx -----------------------------------------------------------------

# Renders nginx/local.conf.in into $1 (default: the live nginx.conf).
render_nginx() {
	local out=${1:-$NGX_DIR/nginx.conf} tpl static user_line
	tpl=$(<"$REPO/nginx/local.conf.in")
	static="$REPO/console/placeholder"
	if [ -d "$REPO/console/dist" ]; then
		static="$REPO/console/dist"
	fi
	if [ "$RUN_AS_ROOT" -eq 1 ]; then
		user_line="user root;"
	else
		user_line="# (not root: the workers run as $(id -un))"
	fi
	tpl=${tpl//@USER_DIRECTIVE@/"$user_line"}
	tpl=${tpl//@PORT@/"$XQ_PORT"}
	tpl=${tpl//@API_SOCKET@/"$API_SOCK"}
	tpl=${tpl//@WXSIM_PORT@/"$XQ_WXSIM_PORT"}
	tpl=${tpl//@WXSIM_SOCKET@/"$WXSIM_SOCK"}
	tpl=${tpl//@RUN_DIR@/"$RUN_DIR"}
	tpl=${tpl//@LOG_DIR@/"$LOG_DIR"}
	tpl=${tpl//@PREFIX@/"$NGX_DIR"}
	tpl=${tpl//@STATIC_ROOT@/"$static"}
	if [[ $tpl =~ @[A-Z_]+@ ]]; then
		die "nginx/local.conf.in: unknown placeholder ${BASH_REMATCH[0]}"
	fi
	mkdir -p "$NGX_DIR/tmp"
	printf '%s\n' "$tpl" >"$out"
}

# nginx runs already: if its configuration is not what the template makes now
# (say the stack was started by an older stack.sh, before xq-wxsim had its
# port), switch to the new one with a reload; a rejected one is put back.
nginx_refresh() {
	local pid=$1 conf="$NGX_DIR/nginx.conf" out
	render_nginx "$conf.new"
	if cmp -s "$conf.new" "$conf"; then
		rm -f "$conf.new"
		say "nginx: already running (pid $pid)"
		return 0
	fi
	cp -p "$conf" "$conf.old" 2>/dev/null || true
	mv "$conf.new" "$conf"
	if ! out=$(nginx_cmd -t -q 2>&1); then
		printf '%s\n' "$out" >&2
		[ -f "$conf.old" ] && mv "$conf.old" "$conf"
		die "nginx rejected the new $conf (the running nginx keeps the old one)"
	fi
	rm -f "$conf.old"
	nginx_cmd -s reload </dev/null >>"$LOG_DIR/nginx-error.log" 2>&1 9>&- ||
		die "nginx -s reload failed (log: $LOG_DIR/nginx-error.log)"
	say "nginx: configuration changed, reloaded (pid $pid, ports $XQ_PORT and $XQ_WXSIM_PORT)"
}

nginx_cmd() {
	nginx -p "$NGX_DIR/" -c "$NGX_DIR/nginx.conf" -e "$LOG_DIR/nginx-error.log" "$@"
}

nginx_start() {
	local pid out
	if pid=$(pid_of "$PID_NGX" nginx); then
		nginx_refresh "$pid"
		return 0
	fi
	rm -f "$PID_NGX"
	render_nginx
	out=$(nginx_cmd -t -q 2>&1) || { printf '%s\n' "$out" >&2; die "nginx rejected $NGX_DIR/nginx.conf"; }
	# daemon on: this returns once the master has forked off. Its output goes
	# to the log, not to a pipe the daemon could keep open.
	if ! nginx_cmd </dev/null >>"$LOG_DIR/nginx-error.log" 2>&1 9>&-; then
		tail_log "$LOG_DIR/nginx-error.log" 10
		die "nginx did not start (port $XQ_PORT or $XQ_WXSIM_PORT in use?)"
	fi
	wait_for 10 pid_of "$PID_NGX" nginx >/dev/null || die "nginx wrote no pid file $PID_NGX"
	say "nginx: listening on 127.0.0.1:$XQ_PORT and :$XQ_WXSIM_PORT (pid $(head -n 1 "$PID_NGX"))"
}

# A running stack keeps the port it was started with; `status` and a no-op
# `start` report that one, whatever XQ_PORT says now.
use_running_port() {
	local p
	p=$(sed -n 's/^[[:space:]]*listen 127\.0\.0\.1:\([0-9]*\);.*$/\1/p' "$NGX_DIR/nginx.conf" 2>/dev/null | head -n 1)
	if [ -n "$p" ]; then
		XQ_PORT=$p
	fi
	p=$(sed -n 's/^[[:space:]]*listen 127\.0\.0\.1:\([0-9]*\); # xq-wxsim$/\1/p' "$NGX_DIR/nginx.conf" 2>/dev/null | head -n 1)
	if [ -n "$p" ]; then
		XQ_WXSIM_PORT=$p
	fi
}

healthy() {
	curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$XQ_PORT/healthz" 2>/dev/null &&
		wxsim_healthy
}

wxsim_healthy() {
	curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$XQ_WXSIM_PORT/sim/healthz" 2>/dev/null
}

wait_healthy() {
	local err
	if ! wait_for 30 healthy; then
		err=$(curl -sS --max-time 2 "http://127.0.0.1:$XQ_PORT/healthz" 2>&1 || true)
		printf 'stack: GET /healthz: %s\n' "$err" >&2
		err=$(curl -sS --max-time 2 "http://127.0.0.1:$XQ_WXSIM_PORT/sim/healthz" 2>&1 || true)
		printf 'stack: GET :%s/sim/healthz: %s\n' "$XQ_WXSIM_PORT" "$err" >&2
		tail_log "$LOG_DIR/xq-api.log"
		tail_log "$LOG_DIR/xq-wxsim.log" 15
		tail_log "$LOG_DIR/nginx-error.log" 10
		die "http://127.0.0.1:$XQ_PORT/healthz and :$XQ_WXSIM_PORT/sim/healthz did not succeed within 30 s"
	fi
}

# --- commands --------------------------------------------------------------

stop_command() {
	local prefix=""
	if [ "$XQ_VAR" != "$DEFAULT_VAR" ]; then
		prefix="XQ_VAR=$XQ_VAR "
	fi
	printf '%sbash %s/deploy/stack.sh stop' "$prefix" "$REPO"
}

print_info() {
	local base="http://127.0.0.1:$XQ_PORT"
	cat <<EOF

Xiaoqu local stack is running.
  Console:     $base/
  API:         $base/api/v1/
  Admin API:   $base/admin/api/v1/
  Health:      $base/healthz
  WeChat sim:  http://127.0.0.1:$XQ_WXSIM_PORT/ (xq-wxsim: WeChat's API paths plus /sim/ hooks,
               appid $WX_APPID, mchid $WX_MCHID; see sim/README.md)
  Meters:      xq-metersim gateways from 127.0.0.1:$XQ_METERSIM_PORT (control :$METERSIM_CTL_PORT),
               xq-collector metrics http://127.0.0.1:$COLLECTOR_HTTP_PORT/metrics
  Demo login:  $ADMIN_USER / $ADMIN_PASSWORD
  Config:      $CONF
  Logs:        $LOG_DIR/
  Stop:        $(stop_command)
EOF
	if [ "$SOCK_MOVED" -eq 1 ]; then
		echo "  Sockets:     $SOCK_DIR/ ($RUN_DIR is too long for a unix socket path)"
	fi
}

all_running() {
	pid_of "$PID_DB" mariadbd >/dev/null &&
		pid_of "$PID_API" xq-api >/dev/null &&
		pid_of "$PID_WXSIM" xq-wxsim >/dev/null &&
		pid_of "$PID_METERSIM" xq-metersim >/dev/null &&
		pid_of "$PID_COLLECTOR" xq-collector >/dev/null &&
		pid_of "$PID_NGX" nginx >/dev/null
}

prepare_dirs() {
	mkdir -p "$XQ_VAR" "$RUN_DIR" "$LOG_DIR" "$DB_TMP"
	(umask 077 && mkdir -p "$SECRETS_DIR")
	chmod 700 "$RUN_DIR" "$SECRETS_DIR"
	if [ "$SOCK_MOVED" -eq 1 ]; then
		mkdir -p -m 700 "$SOCK_DIR" 2>/dev/null || true
		# /tmp is shared: the directory must be a real one and ours alone.
		if [ ! -d "$SOCK_DIR" ] || [ -L "$SOCK_DIR" ] || [ ! -O "$SOCK_DIR" ]; then
			die "$SOCK_DIR is not a directory owned by $(id -un)"
		fi
		chmod 700 "$SOCK_DIR"
		say "note: $RUN_DIR is too long for unix socket paths; sockets are in $SOCK_DIR"
	fi
}

lock() {
	mkdir -p "$XQ_VAR"
	exec 9>"$XQ_VAR/.stack.lock"
	flock -w 300 9 || die "another stack.sh holds $XQ_VAR/.stack.lock"
}

# XQ_FRESH=1: removes only what start creates, never XQ_VAR itself.
wipe_state() {
	say "XQ_FRESH=1: stopping and removing the stack state in $XQ_VAR"
	stop_all || true
	rm -rf -- "$DB_DIR" "$RUN_DIR" "$LOG_DIR" "$SECRETS_DIR" "$NGX_DIR" "$SPOOL_DIR" "$MY_CNF" "$CONF"
}

cmd_start() {
	local t0=$SECONDS
	lock
	if [ "${XQ_FRESH:-0}" = 1 ]; then
		wipe_state
	fi
	if all_running; then
		use_running_port
		say "already running"
		print_info
		return 0
	fi
	if [ "${XQ_SKIP_DEPS:-0}" != 1 ]; then
		bash "$REPO/deploy/install-deps.sh"
	fi
	if [ "${XQ_SKIP_BUILD:-0}" != 1 ]; then
		say "building in $XQ_BUILD"
		cmake -S "$REPO" -B "$XQ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
		cmake --build "$XQ_BUILD" -j2
		# the staff console (issue 6): npm ci + vite build into console/dist when stale
		if [ "${XQ_SKIP_CONSOLE:-0}" != 1 ]; then
			bash "$REPO/deploy/console-build.sh" ||
				die "console build failed (XQ_SKIP_CONSOLE=1 starts the stack without building it)"
		fi
	fi
	# Paths set here belong to the stack; an XQ_DB_SOCKET etc. from the caller's
	# environment would point the programs elsewhere. Other XQ_* keys pass
	# through (XQ_LOG_LEVEL=debug, XQ_API_THREADS=...).
	unset XQ_DB_HOST XQ_DB_PORT XQ_DB_SOCKET XQ_DB_NAME XQ_DB_USER XQ_DB_PASSWORD_FILE XQ_API_SOCKET XQ_CONFIG
	# The same for WeChat: the keys, ids and URLs the stack generates belong together.
	unset XQ_WX_APPID XQ_WX_APP_SECRET_FILE XQ_WX_MCHID XQ_WX_MERCHANT_SERIAL XQ_WX_MERCHANT_KEY_FILE \
		XQ_WX_APIV3_KEY_FILE XQ_WX_PLATFORM_KEY_ID XQ_WX_PLATFORM_PUBKEY_FILE XQ_WX_API_BASE_URL \
		XQ_WX_PAY_BASE_URL XQ_WX_NOTIFY_URL XQ_WXSIM_SOCKET XQ_WXSIM_DB_NAME \
		XQ_WXSIM_PLATFORM_KEY_FILE XQ_WXSIM_PLATFORM_CERT_FILE XQ_WXSIM_MERCHANT_CERT_FILE
	prepare_dirs
	db_start
	db_setup
	wx_keys
	write_conf
	app_setup
	api_start
	wxsim_start
	meters_start
	nginx_start
	wait_healthy
	say "up in $((SECONDS - t0)) s"
	print_info
}

# Reports (and fails on) sanitizer output that this run of $1 (xq-api,
# xq-wxsim) logged.
check_log() {
	local name=$1 log="$LOG_DIR/$1.log" pos=0
	[ -f "$log" ] || return 0
	if [ -f "$RUN_DIR/$name.logpos" ]; then
		pos=$(head -n 1 "$RUN_DIR/$name.logpos")
	fi
	[[ $pos =~ ^[0-9]+$ ]] || pos=0
	rm -f "$RUN_DIR/$name.logpos"
	if tail -c +"$((pos + 1))" "$log" | grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'; then
		printf 'stack: %s logged a sanitizer report:\n' "$name" >&2
		tail -c +"$((pos + 1))" "$log" | grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' | head -n 60 >&2
		return 1
	fi
}

cmd_stop() {
	if [ ! -d "$XQ_VAR" ]; then
		say "$XQ_VAR does not exist: nothing to stop"
		return 0
	fi
	lock
	stop_all
}

# stop_daemon NAME PIDFILE: stops one of our daemons and checks how it went.
stop_daemon() {
	local name=$1 r=0 rc=0
	stop_pid "$name" "$2" "$name" || r=$?
	case $r in
	2) rc=1 ;;
	3)
		rc=1
		printf 'stack: error: %s died before stop (crash?)\n' "$name" >&2
		tail_log "$LOG_DIR/$name.log" 15
		;;
	esac
	if [ "$r" -ne 1 ]; then
		check_log "$name" || rc=1
	fi
	return "$rc"
}

# Call with the lock held.
stop_all() {
	local rc=0
	stop_pid nginx "$PID_NGX" nginx || true
	# the collector first: it empties its spool into the database on SIGTERM
	stop_daemon xq-collector "$PID_COLLECTOR" || rc=1
	stop_daemon xq-metersim "$PID_METERSIM" || rc=1
	# xq-wxsim and xq-api must run until told to stop, exit on SIGTERM, and log
	# no sanitizer errors; otherwise stop fails (the e2e cleanup fixture shows it).
	stop_daemon xq-wxsim "$PID_WXSIM" || rc=1
	stop_daemon xq-api "$PID_API" || rc=1
	stop_pid MariaDB "$PID_DB" mariadbd || true
	if [ "$SOCK_MOVED" -eq 1 ] && [ -d "$SOCK_DIR" ]; then
		rmdir "$SOCK_DIR" 2>/dev/null || true
	fi
	return "$rc"
}

cmd_status() {
	local pid name file comm n=0
	for name in MariaDB:mariadbd:"$PID_DB" xq-api:xq-api:"$PID_API" xq-wxsim:xq-wxsim:"$PID_WXSIM" \
		xq-metersim:xq-metersim:"$PID_METERSIM" xq-collector:xq-collector:"$PID_COLLECTOR" \
		nginx:nginx:"$PID_NGX"; do
		comm=${name#*:}
		file=${comm#*:}
		comm=${comm%%:*}
		name=${name%%:*}
		if pid=$(pid_of "$file" "$comm"); then
			printf '%-12s running (pid %s)\n' "$name" "$pid"
			n=$((n + 1))
		else
			printf '%-12s stopped\n' "$name"
		fi
	done
	if [ "$n" -eq 6 ]; then
		use_running_port
		if healthy; then
			echo "healthz  ok (http://127.0.0.1:$XQ_PORT/healthz, http://127.0.0.1:$XQ_WXSIM_PORT/sim/healthz)"
		else
			echo "healthz  FAILING (http://127.0.0.1:$XQ_PORT/healthz, http://127.0.0.1:$XQ_WXSIM_PORT/sim/healthz)"
			return 1
		fi
		return 0
	fi
	return 3
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
restart)
	cmd_stop || true
	exec 9>&-
	cmd_start
	;;
status) cmd_status ;;
*)
	echo "usage: bash deploy/stack.sh start|stop|status|restart" >&2
	exit 2
	;;
esac
