#!/usr/bin/env bash
# backup.sh - consistent logical backups of the Xiaoqu database, and restores.
#
#   bash deploy/backup.sh backup  [-c CONF] [--dir DIR] [--keep N]
#   bash deploy/backup.sh verify  FILE
#   bash deploy/backup.sh restore [-c CONF] FILE [--db NAME] [--replace]
#
# CONF is the programs' ini file (default: $XQ_CONFIG, else var/xiaoqu.conf of
# the local stack); its [db] section says where the database is (socket or
# host/port, name, user, password_file). XQ_DB_* environment variables override
# it as for the programs themselves.
#
# backup: mariadb-dump --single-transaction (one consistent InnoDB snapshot,
# no table locks, so xq-api and the collector keep running), gzip, then a
# .sha256 beside it. Files: DIR/xiaoqu-<db>-<UTC time>.sql.gz (DIR default
# backups/ next to CONF; mode 600, the dump holds personal data and sessions).
# --keep N deletes all but the newest N backups of that database.
# verify: the checksum matches and the gzip stream is whole.
# restore: verify first, then load into --db NAME (default: the configured
# database). The target must exist (the operator creates it and grants the
# account, as for the first install) and be empty unless --replace is given:
# a restore never lands on a live database by accident.
#
# The password goes to the clients in a temporary defaults file (mode 600,
# removed on exit), never on a command line where ps would show it.
# Routines, events and triggers are not dumped: the schema has none.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

die() { printf 'backup: %s\n' "$*" >&2; exit 1; }
say() { printf 'backup: %s\n' "$*" >&2; }

usage() {
	sed -n '3,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

# ini_get FILE SECTION KEY: the value of KEY in [SECTION], trimmed; empty if absent.
ini_get() {
	awk -v sec="$2" -v key="$3" '
		/^[ \t]*[#;]/ { next }
		/^[ \t]*\[/ { gsub(/[][ \t]/, ""); cur = $0; next }
		cur == sec {
			i = index($0, "=")
			if (i == 0) next
			k = substr($0, 1, i - 1); v = substr($0, i + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
			if (k == key) { print v; exit }
		}' "$1"
}

# db_setting KEY DEFAULT: XQ_DB_<KEY> from the environment, else the file, else DEFAULT.
db_setting() {
	local env="XQ_DB_${1^^}" v
	v=${!env:-}
	[ -n "$v" ] || v=$(ini_get "$CONF" db "$1")
	printf '%s' "${v:-$2}"
}

TMPDIR_B=
cleanup() { [ -z "$TMPDIR_B" ] || rm -rf "$TMPDIR_B"; }
trap cleanup EXIT

# Writes the [client] defaults file for the configured account; sets DB_NAME.
load_conf() {
	[ -n "$CONF" ] || CONF=${XQ_CONFIG:-$REPO/var/xiaoqu.conf}
	[ -r "$CONF" ] || die "cannot read config '$CONF' (give -c FILE)"
	local socket host port user pwfile pw
	socket=$(db_setting socket "")
	host=$(db_setting host "")
	port=$(db_setting port 3306)
	user=$(db_setting user xiaoqu)
	DB_NAME=$(db_setting name xiaoqu)
	pwfile=$(db_setting password_file "")
	pw=
	if [ -n "$pwfile" ]; then
		[ -r "$pwfile" ] || die "cannot read db.password_file '$pwfile'"
		pw=$(head -n 1 "$pwfile")
	fi
	TMPDIR_B=$(mktemp -d)
	chmod 700 "$TMPDIR_B"
	DEFAULTS="$TMPDIR_B/client.cnf"
	(
		umask 077
		{
			echo "[client]"
			echo "user = $user"
			[ -z "$pw" ] || echo "password = \"$pw\""
			if [ -n "$socket" ]; then
				echo "socket = $socket"
			else
				echo "host = ${host:-127.0.0.1}"
				echo "port = $port"
			fi
			echo "default-character-set = utf8mb4"
		} >"$DEFAULTS"
	)
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (bash deploy/install-deps.sh installs it)"; }

cmd_verify() {
	local file=$1 sum
	[ -f "$file" ] || die "no such backup '$file'"
	[ -f "$file.sha256" ] || die "'$file.sha256' is missing: cannot prove the backup is whole"
	sum=$(sha256sum "$file" | awk '{print $1}')
	[ "$sum" = "$(awk '{print $1}' "$file.sha256")" ] || die "'$file': checksum mismatch, the file is damaged"
	gzip -t "$file" 2>/dev/null || die "'$file': the gzip stream is damaged"
	# A dump that mariadb-dump finished ends with its completion comment.
	zcat "$file" | tail -n 1 | grep -q '^-- Dump completed' ||
		die "'$file': the dump is incomplete (no completion line)"
	say "$file: ok ($(stat -c %s "$file") bytes)"
}

cmd_backup() {
	local dir="" keep=0 ts out tmp
	while [ $# -gt 0 ]; do
		case $1 in
		--dir) dir=$2; shift 2 ;;
		--keep) keep=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	[[ $keep =~ ^[0-9]+$ ]] || die "--keep wants a number, not '$keep'"
	need mariadb-dump
	load_conf
	[ -n "$dir" ] || dir="$(dirname "$CONF")/backups"
	mkdir -p "$dir"
	chmod 700 "$dir"
	ts=$(date -u +%Y%m%dT%H%M%SZ)
	out="$dir/xiaoqu-$DB_NAME-$ts.sql.gz"
	tmp="$out.part"
	say "dumping database '$DB_NAME' to $out"
	(
		umask 077
		set -o pipefail
		mariadb-dump --defaults-extra-file="$DEFAULTS" --single-transaction --quick \
			--hex-blob --skip-triggers --no-tablespaces "$DB_NAME" |
			gzip -6 >"$tmp"
	) || { rm -f "$tmp"; die "mariadb-dump of '$DB_NAME' failed"; }
	mv "$tmp" "$out"
	(cd "$dir" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
	chmod 600 "$out" "$out.sha256"
	cmd_verify "$out"
	if [ "$keep" -gt 0 ]; then
		ls -1t "$dir"/xiaoqu-"$DB_NAME"-*.sql.gz 2>/dev/null | tail -n +$((keep + 1)) |
			while read -r old; do
				rm -f "$old" "$old.sha256"
				say "removed old backup $old"
			done
	fi
	printf '%s\n' "$out"
}

cmd_restore() {
	local file="" target="" replace=0 tables
	while [ $# -gt 0 ]; do
		case $1 in
		--db) target=$2; shift 2 ;;
		--replace) replace=1; shift ;;
		-*) usage ;;
		*) [ -z "$file" ] || usage; file=$1; shift ;;
		esac
	done
	[ -n "$file" ] || usage
	need mariadb
	cmd_verify "$file"
	load_conf
	[ -n "$target" ] || target=$DB_NAME
	[[ $target =~ ^[A-Za-z0-9_]{1,64}$ ]] || die "bad database name '$target'"
	tables=$(mariadb --defaults-extra-file="$DEFAULTS" -N -B -e \
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$target'") ||
		die "cannot reach database '$target' (create it and grant the account first)"
	mariadb --defaults-extra-file="$DEFAULTS" -e "USE \`$target\`" 2>/dev/null ||
		die "database '$target' does not exist or the account may not use it"
	if [ "$tables" -gt 0 ] && [ "$replace" -ne 1 ]; then
		die "database '$target' has $tables tables; give --replace to overwrite it"
	fi
	say "restoring $file into '$target'"
	# The dump names no database (no --databases), so it loads into any.
	zcat "$file" | mariadb --defaults-extra-file="$DEFAULTS" "$target" ||
		die "restore into '$target' failed: the database may be partly loaded, restore again with --replace"
	say "restored into '$target'"
}

[ $# -ge 1 ] || usage
CONF=
cmd=$1
shift
if [ "${1:-}" = -c ]; then
	[ $# -ge 2 ] || usage
	CONF=$2
	shift 2
fi
case $cmd in
backup) cmd_backup "$@" ;;
verify) [ $# -eq 1 ] || usage; cmd_verify "$1" ;;
restore) cmd_restore "$@" ;;
*) usage ;;
esac
