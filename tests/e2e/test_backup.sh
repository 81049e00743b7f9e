#!/usr/bin/env bash
# deploy/backup.sh against the test stack's MariaDB: a backup while the stack
# runs, its verification (and refusal of a damaged or truncated file), a
# restore into a new database whose own dump equals the original dump line
# for line, the refusal to overwrite a non-empty database, and --keep.
set -uo pipefail
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
: "${XQ_VAR:?}" "${XQ_CONFIG:?}"

root() { mariadb --defaults-file="$XQ_VAR/my.cnf" -u root -N -B "$@"; }
dir=$(mktemp -d)
target=xq_restore_$$
trap 'rm -rf "$dir"; root -e "DROP DATABASE IF EXISTS $target" >/dev/null 2>&1' EXIT

f=$(bash deploy/backup.sh backup -c "$XQ_CONFIG" --dir "$dir" 2>"$dir/log")
check "[ -f '$f' ] && [ -f '$f.sha256' ]"
check "[ \"\$(stat -c %a '$f')\" = 600 ]"
check "bash deploy/backup.sh verify '$f' 2>/dev/null"

# a flipped byte, and a file cut short, are both refused
cp "$f" "$dir/bad.sql.gz"
printf '\x00' | dd of="$dir/bad.sql.gz" bs=1 seek=200 conv=notrunc status=none
cp "$f.sha256" "$dir/bad.sql.gz.sha256"
check "! bash deploy/backup.sh verify '$dir/bad.sql.gz' 2>/dev/null"
zcat "$f" | head -n 50 | gzip >"$dir/cut.sql.gz"
(cd "$dir" && sha256sum cut.sql.gz >cut.sql.gz.sha256)
check "! bash deploy/backup.sh verify '$dir/cut.sql.gz' 2>/dev/null"

# restore into a new database
root -e "CREATE DATABASE $target CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
	GRANT ALL PRIVILEGES ON $target.* TO 'xiaoqu'@'localhost'"
check "bash deploy/backup.sh restore -c '$XQ_CONFIG' '$f' --db $target 2>/dev/null"
# The stack keeps running (and writing) meanwhile, so the restored copy is
# compared with the snapshot, not with the live tables: a dump of the restored
# database must equal the original dump line for line (comments aside).
g0=$(XQ_DB_NAME=$target bash deploy/backup.sh backup -c "$XQ_CONFIG" --dir "$dir/again" 2>/dev/null)
check "[ -f '$g0' ]"
zcat "$f" | grep -v '^-- ' >"$dir/a.sql"
zcat "$g0" | grep -v '^-- ' >"$dir/b.sql"
check "cmp -s '$dir/a.sql' '$dir/b.sql'"
cmp -s "$dir/a.sql" "$dir/b.sql" || diff "$dir/a.sql" "$dir/b.sql" | head -5 >&2
n=$(grep -c '^CREATE TABLE' "$dir/a.sql")
check "[ $n -ge 30 ]"
rows=$(root -e "SELECT COUNT(*) FROM $target.staff_user")
check "[ ${rows:-0} -gt 0 ]"

# a non-empty database is not overwritten without --replace
check "! bash deploy/backup.sh restore -c '$XQ_CONFIG' '$f' --db $target 2>/dev/null"
check "bash deploy/backup.sh restore -c '$XQ_CONFIG' '$f' --db $target --replace 2>/dev/null"

# --keep 1 leaves the newest backup only
sleep 1.1
g=$(bash deploy/backup.sh backup -c "$XQ_CONFIG" --dir "$dir" --keep 1 2>/dev/null)
check "[ -f '$g' ] && [ ! -f '$f' ] && [ ! -f '$f.sha256' ]"

# the password never reaches a command line or the log
pw=$(head -n 1 "$XQ_VAR/secrets/db_password")
check "! grep -qF -- '$pw' '$dir/log'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
