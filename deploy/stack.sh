#!/usr/bin/env bash
# stack.sh - the local Xiaoqu stack: a private MariaDB, xq-api and nginx, all
# under one var directory. Used for development, the demo, the e2e tests and CI.
#
#   bash deploy/stack.sh start|stop|status|restart
#
# Environment:
#   XQ_VAR         state directory (default: <repo>/var; relative = from the cwd)
#   XQ_PORT        nginx port on 127.0.0.1 (default: 8080)
#   XQ_BUILD       build directory holding cgi/xq-api and cli/xqctl (default: <repo>/build)
#   XQ_SKIP_DEPS=1  do not run deploy/install-deps.sh
#   XQ_SKIP_BUILD=1 do not run cmake
#   XQ_NO_DEMO=1    do not load the demo data (the admin account is still created)
#   XQ_FRESH=1      start from nothing: stop the stack in XQ_VAR and delete its
#                   database, secrets, logs and generated configs first (tests)
#
# Layout of $XQ_VAR: db/ (datadir), run/ (pid files, sockets), log/, secrets/,
# nginx/ (prefix), my.cnf and xiaoqu.conf (both rewritten on every start).
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
SECRETS_DIR="$XQ_VAR/secrets"
NGX_DIR="$XQ_VAR/nginx"
MY_CNF="$XQ_VAR/my.cnf"
CONF="$XQ_VAR/xiaoqu.conf"
PW_FILE="$SECRETS_DIR/db_password"
PID_DB="$RUN_DIR/mariadb.pid"
PID_API="$RUN_DIR/xq-api.pid"
PID_NGX="$RUN_DIR/nginx.pid"
API_BIN="$XQ_BUILD/cgi/xq-api"
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

# sun_path holds 108 bytes including the NUL.
SOCK_DIR="$RUN_DIR"
SOCK_MOVED=0
if [ "$(printf '%s' "$SOCK_DIR/mysqld.sock" | wc -c)" -gt 107 ]; then
	SOCK_DIR="/tmp/xq-$(printf '%s' "$XQ_VAR" | sha256sum | cut -c1-12)"
	SOCK_MOVED=1
fi
DB_SOCK="$SOCK_DIR/mysqld.sock"
API_SOCK="$SOCK_DIR/xq-api.sock"

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
	mkdir -p "$DB_DIR"
	# --force skips the hostname lookup, which fails on some CI hosts; we only
	# use localhost accounts. Not passing --user on purpose: with --user the
	# script chowns the system's /usr/lib/mysql/plugin/auth_pam_tool_dir (as
	# root it would take it away from the mysql user). The bootstrap runs as
	# the invoking user anyway, and the server gets --user=root below.
	args=(--no-defaults --force --skip-test-db --datadir="$DB_DIR"
		--auth-root-socket-user="$DB_ADMIN")
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
EOF
}

# --- xiaoqu ----------------------------------------------------------------

write_conf() {
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

# --- nginx -----------------------------------------------------------------

render_nginx() {
	local tpl static user_line
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
	tpl=${tpl//@RUN_DIR@/"$RUN_DIR"}
	tpl=${tpl//@LOG_DIR@/"$LOG_DIR"}
	tpl=${tpl//@PREFIX@/"$NGX_DIR"}
	tpl=${tpl//@STATIC_ROOT@/"$static"}
	if [[ $tpl =~ @[A-Z_]+@ ]]; then
		die "nginx/local.conf.in: unknown placeholder ${BASH_REMATCH[0]}"
	fi
	mkdir -p "$NGX_DIR/tmp"
	printf '%s\n' "$tpl" >"$NGX_DIR/nginx.conf"
}

nginx_cmd() {
	nginx -p "$NGX_DIR/" -c "$NGX_DIR/nginx.conf" -e "$LOG_DIR/nginx-error.log" "$@"
}

nginx_start() {
	local pid out
	if pid=$(pid_of "$PID_NGX" nginx); then
		say "nginx: already running (pid $pid)"
		return 0
	fi
	rm -f "$PID_NGX"
	render_nginx
	out=$(nginx_cmd -t -q 2>&1) || { printf '%s\n' "$out" >&2; die "nginx rejected $NGX_DIR/nginx.conf"; }
	# daemon on: this returns once the master has forked off. Its output goes
	# to the log, not to a pipe the daemon could keep open.
	if ! nginx_cmd </dev/null >>"$LOG_DIR/nginx-error.log" 2>&1 9>&-; then
		tail_log "$LOG_DIR/nginx-error.log" 10
		die "nginx did not start (port $XQ_PORT in use?)"
	fi
	wait_for 10 pid_of "$PID_NGX" nginx >/dev/null || die "nginx wrote no pid file $PID_NGX"
	say "nginx: listening on 127.0.0.1:$XQ_PORT (pid $(head -n 1 "$PID_NGX"))"
}

# A running stack keeps the port it was started with; `status` and a no-op
# `start` report that one, whatever XQ_PORT says now.
use_running_port() {
	local p
	p=$(sed -n 's/^[[:space:]]*listen 127\.0\.0\.1:\([0-9]*\);.*$/\1/p' "$NGX_DIR/nginx.conf" 2>/dev/null | head -n 1)
	if [ -n "$p" ]; then
		XQ_PORT=$p
	fi
}

healthy() {
	curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$XQ_PORT/healthz" 2>/dev/null
}

wait_healthy() {
	local err
	if ! wait_for 30 healthy; then
		err=$(curl -sS --max-time 2 "http://127.0.0.1:$XQ_PORT/healthz" 2>&1 || true)
		printf 'stack: GET /healthz: %s\n' "$err" >&2
		tail_log "$LOG_DIR/xq-api.log"
		tail_log "$LOG_DIR/nginx-error.log" 10
		die "http://127.0.0.1:$XQ_PORT/healthz did not succeed within 30 s"
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
		pid_of "$PID_NGX" nginx >/dev/null
}

prepare_dirs() {
	mkdir -p "$XQ_VAR" "$RUN_DIR" "$LOG_DIR"
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
	rm -rf -- "$DB_DIR" "$RUN_DIR" "$LOG_DIR" "$SECRETS_DIR" "$NGX_DIR" "$MY_CNF" "$CONF"
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
	fi
	# Paths set here belong to the stack; an XQ_DB_SOCKET etc. from the caller's
	# environment would point the programs elsewhere. Other XQ_* keys pass
	# through (XQ_LOG_LEVEL=debug, XQ_API_THREADS=...).
	unset XQ_DB_HOST XQ_DB_PORT XQ_DB_SOCKET XQ_DB_NAME XQ_DB_USER XQ_DB_PASSWORD_FILE XQ_API_SOCKET XQ_CONFIG
	prepare_dirs
	db_start
	db_setup
	write_conf
	app_setup
	api_start
	nginx_start
	wait_healthy
	say "up in $((SECONDS - t0)) s"
	print_info
}

# Reports (and fails on) sanitizer output that this run of xq-api logged.
check_api_log() {
	local log="$LOG_DIR/xq-api.log" pos=0
	[ -f "$log" ] || return 0
	if [ -f "$RUN_DIR/xq-api.logpos" ]; then
		pos=$(head -n 1 "$RUN_DIR/xq-api.logpos")
	fi
	[[ $pos =~ ^[0-9]+$ ]] || pos=0
	rm -f "$RUN_DIR/xq-api.logpos"
	if tail -c +"$((pos + 1))" "$log" | grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'; then
		printf 'stack: xq-api logged a sanitizer report:\n' >&2
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

# Call with the lock held.
stop_all() {
	local rc=0 r
	stop_pid nginx "$PID_NGX" nginx || true
	r=0
	stop_pid xq-api "$PID_API" xq-api || r=$?
	# xq-api must run until told to stop, exit on SIGTERM, and log no
	# sanitizer errors; otherwise stop fails (the e2e cleanup fixture shows it).
	case $r in
	2) rc=1 ;;
	3)
		rc=1
		printf 'stack: error: xq-api died before stop (crash?)\n' >&2
		tail_log "$LOG_DIR/xq-api.log" 15
		;;
	esac
	if [ "$r" -ne 1 ]; then
		check_api_log || rc=1
	fi
	stop_pid MariaDB "$PID_DB" mariadbd || true
	if [ "$SOCK_MOVED" -eq 1 ] && [ -d "$SOCK_DIR" ]; then
		rmdir "$SOCK_DIR" 2>/dev/null || true
	fi
	return "$rc"
}

cmd_status() {
	local pid name file comm n=0
	for name in MariaDB:mariadbd:"$PID_DB" xq-api:xq-api:"$PID_API" nginx:nginx:"$PID_NGX"; do
		comm=${name#*:}
		file=${comm#*:}
		comm=${comm%%:*}
		name=${name%%:*}
		if pid=$(pid_of "$file" "$comm"); then
			printf '%-8s running (pid %s)\n' "$name" "$pid"
			n=$((n + 1))
		else
			printf '%-8s stopped\n' "$name"
		fi
	done
	if [ "$n" -eq 3 ]; then
		use_running_port
		if healthy; then
			echo "healthz  ok (http://127.0.0.1:$XQ_PORT/healthz)"
		else
			echo "healthz  FAILING (http://127.0.0.1:$XQ_PORT/healthz)"
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
