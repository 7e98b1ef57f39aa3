# Sourced by scripts/test. Makes a PostgreSQL server available to the tests
# through SCIMD_TEST_POSTGRES (a DSN whose role may create schemas).
#
# If SCIMD_TEST_POSTGRES is already set, it is used as is. Otherwise this
# installs PostgreSQL from Debian's packages when missing (root only),
# starts a throwaway server as a non-root user in a temp folder on a free
# loopback port, and stops it when the calling shell exits.
#
# It also exports, for the test that restarts PostgreSQL under load (which
# must not restart the server other packages' tests are using, so it starts
# its own):
#   SCIMD_TEST_PG_BIN   the folder holding initdb and pg_ctl
#   SCIMD_TEST_PG_USER  the user to run them as when the tests run as root
#
# Requires: log, apt_install (from scripts/test).

pg_bin_dir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

pg_free_port() {
	# Ask the kernel for a free port, then release it for the server.
	python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

pg_start_throwaway() {
	local bin user dir port as
	bin=$(pg_bin_dir) || {
		apt_install postgresql || return 1
		bin=$(pg_bin_dir) || return 1
	}
	export SCIMD_TEST_PG_BIN="$bin"
	as=()
	if [ "$(id -u)" = 0 ]; then
		# PostgreSQL refuses to run as root.
		user=scimdpg
		if ! id "$user" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null ||
				adduser --system --no-create-home "$user" >/dev/null
		fi
		export SCIMD_TEST_PG_USER="$user"
		as=(runuser -u "$user" --)
	fi
	dir=$(mktemp -d /tmp/scimd-pg.XXXXXX)
	chmod 755 "$dir"
	[ -n "${user:-}" ] && chown "$user" "$dir"
	port=$(pg_free_port)
	log "starting a throwaway PostgreSQL ($bin) on 127.0.0.1:$port in $dir"
	"${as[@]}" "$bin/initdb" -D "$dir/data" -U scimd --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		"${as[@]}" "$bin/initdb" -D "$dir/data" -U scimd --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	# Enough connections for several test binaries at once, each with two
	# scimd replicas; fsync off because the data is thrown away.
	"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-h 127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
	export SCIMD_TEST_POSTGRES="postgres://scimd@127.0.0.1:$port/postgres?sslmode=disable"
	SCIMD_PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop)
	SCIMD_PG_DIR="$dir"
	trap 'pg_stop_throwaway' EXIT
}

pg_stop_throwaway() {
	if [ -n "${SCIMD_PG_DIR:-}" ]; then
		"${SCIMD_PG_STOP[@]}" >/dev/null 2>&1 || true
		rm -rf "$SCIMD_PG_DIR"
		SCIMD_PG_DIR=
	fi
}

if [ -z "${SCIMD_TEST_POSTGRES:-}" ]; then
	if ! pg_start_throwaway; then
		if [ "${SCIMD_CI:-}" = 1 ]; then
			log "cannot start PostgreSQL, which CI requires"
			exit 1
		fi
		log "no PostgreSQL: its tests will skip (set SCIMD_TEST_POSTGRES=postgres://… to use a server)"
	fi
else
	export SCIMD_TEST_PG_BIN="${SCIMD_TEST_PG_BIN:-$(pg_bin_dir || true)}"
fi
