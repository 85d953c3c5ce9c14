#!/usr/bin/env bash
# bench/radius/run.sh — FreeRADIUS 3.2 and simguard side by side: the same
# 100,000 SIMs and policy (IMSI known, IMEI match, APN), the same load
# generator and request mix (80% accept / 20% reject), on loopback.
#
# For each server: a closed-loop run finds the peak requests/s; an
# open-loop run at half that rate measures latency below saturation.
# First the load generator is run against a null responder that does no
# work, to show the generator can send much more than either server takes.
#
# Environment: SIMS (100000), DURATION (10s), SOCKETS (4), WINDOW (32),
# ROUNDS (3: peak runs per server, alternating, the best kept), GEN_CPU (0)
# and SRV_CPU (1) pin generator and servers to their own core.
#
# Besides requests/s the script reports each server's CPU time per
# answered request (from /proc/PID/stat over the run, median of the
# rounds): on a machine shared with other work that figure is stable
# where requests/s is not.
set -euo pipefail

SIMS=${SIMS:-100000}
DURATION=${DURATION:-10s}
SOCKETS=${SOCKETS:-4}
WINDOW=${WINDOW:-32}
ROUNDS=${ROUNDS:-3}
GEN_CPU=${GEN_CPU:-0}
SRV_CPU=${SRV_CPU:-1}
SECRET=bench-secret-$$
PORT_NULL=${PORT_NULL:-28100}
PORT_FR=${PORT_FR:-28101}
PORT_SG=${PORT_SG:-28102}

for tool in freeradius radclient taskset go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install freeradius freeradius-utils util-linux)" >&2; exit 1; }
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRATCH=$(mktemp -d /tmp/simguard-bench-radius.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

echo "== building (scratch $SCRATCH)"
(cd "$ROOT" && go build -o "$SCRATCH/simguard-server" ./bench/radius/simguard-server &&
	go build -o "$SCRATCH/loadgen" ./bench/radius/loadgen)

# --- FreeRADIUS configuration, from Debian's, in the scratch dir ---------
RADDB=$SCRATCH/raddb
cp -r /etc/freeradius/3.0 "$RADDB"
rm -f "$RADDB"/sites-enabled/* "$RADDB/mods-enabled/eap"
mkdir -p "$SCRATCH/log" "$SCRATCH/run"
sed -i -e "s|^logdir = .*|logdir = $SCRATCH/log|" \
	-e "s|^run_dir = .*|run_dir = $SCRATCH/run|" \
	-e 's|reject_delay = 1|reject_delay = 0|' \
	-e 's|^\(\s*\)user = freerad|#&|' -e 's|^\(\s*\)group = freerad|#&|' "$RADDB/radiusd.conf"
cat >"$RADDB/clients.conf" <<EOF
client bench {
	ipaddr = 127.0.0.0/8
	secret = $SECRET
	require_message_authenticator = yes
}
EOF
cat >"$RADDB/sites-enabled/bench" <<EOF
server bench {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $PORT_FR
	}
	authorize {
		files
	}
	authenticate {
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
		}
	}
}
EOF
"$SCRATCH/simguard-server" -write-freeradius-users "$RADDB/mods-config/files/authorize" -sims "$SIMS"

wait_ready() { # port
	for _ in $(seq 1 300); do
		if printf 'User-Name = 001010000000000\n3GPP-IMEISV = 3530000000000001\nCalled-Station-Id = iot.bench\nMessage-Authenticator = 0x00\n' |
			radclient -q -r 1 -t 1 "127.0.0.1:$1" auth "$SECRET" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "run.sh: server on port $1 did not answer" >&2
	exit 1
}

gen() { # port, extra loadgen flags...
	local port=$1
	shift
	taskset -c "$GEN_CPU" "$SCRATCH/loadgen" -server "127.0.0.1:$port" -secret "$SECRET" -sims "$SIMS" \
		-sockets "$SOCKETS" -window "$WINDOW" -duration "$DURATION" "$@"
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# CPU seconds (user+system, all threads) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat"; }
# Server CPU microseconds per answered request during one loadgen run.
us_per_req() { awk "BEGIN{printf \"%.1f\", ($3-$2)*1e6/$(field "$1" all_answered)}"; }
rss_mib() { echo $(($(ps -o rss= -p "$1") / 1024)); }

echo "== load generator capacity (null responder on CPU $SRV_CPU, generator on CPU $GEN_CPU)"
taskset -c "$SRV_CPU" "$SCRATCH/simguard-server" -null -addr "127.0.0.1:$PORT_NULL" -secret "$SECRET" >/dev/null &
PIDS+=($!)
wait_ready "$PORT_NULL"
NULL=$(gen "$PORT_NULL" -check=false)
echo "null:       $NULL"

echo "== starting FreeRADIUS $(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1) ($SIMS users) and simguard ($SIMS SIMs), both on CPU $SRV_CPU"
taskset -c "$SRV_CPU" freeradius -f -d "$RADDB" -l "$SCRATCH/log/radius.log" &
FR_PID=$!
PIDS+=($FR_PID)
taskset -c "$SRV_CPU" "$SCRATCH/simguard-server" -addr "127.0.0.1:$PORT_SG" -secret "$SECRET" -sims "$SIMS" >/dev/null &
SG_PID=$!
PIDS+=($SG_PID)
wait_ready "$PORT_FR"
wait_ready "$PORT_SG"

# Peak: ROUNDS closed-loop runs per server, alternating, best one kept:
# other load on the machine can only make a run slower, never faster.
FR_RPS=0 SG_RPS=0 FR_USS="" SG_USS=""
for round in $(seq 1 "$ROUNDS"); do
	C0=$(cpu_s $FR_PID)
	OUT=$(gen "$PORT_FR")
	FR_USS="$FR_USS $(us_per_req "$OUT" "$C0" "$(cpu_s $FR_PID)")"
	echo "freeradius round $round: $OUT"
	if [ "$(field "$OUT" rps)" -gt "$FR_RPS" ]; then FR_RPS=$(field "$OUT" rps) FR_PEAK=$OUT; fi
	C0=$(cpu_s $SG_PID)
	OUT=$(gen "$PORT_SG")
	SG_USS="$SG_USS $(us_per_req "$OUT" "$C0" "$(cpu_s $SG_PID)")"
	echo "simguard   round $round: $OUT"
	if [ "$(field "$OUT" rps)" -gt "$SG_RPS" ]; then SG_RPS=$(field "$OUT" rps) SG_PEAK=$OUT; fi
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
FR_US=$(median $FR_USS)
SG_US=$(median $SG_USS)
FR_HALF=$(gen "$PORT_FR" -rate $((FR_RPS / 2)))
echo "freeradius at $((FR_RPS / 2))/s: $FR_HALF"
SG_HALF=$(gen "$PORT_SG" -rate $((SG_RPS / 2)))
echo "simguard   at $((SG_RPS / 2))/s: $SG_HALF"
FR_RSS=$(rss_mib $FR_PID)
SG_RSS=$(rss_mib $SG_PID)

echo
F='%-11s %8s %8s %8s %12s %12s %13s %8s\n'
printf "$F" server "req/s" "p50 µs" "p99 µs" "p50@half µs" "p99@half µs" "CPU µs/req" "RSS MiB"
printf "$F" null "$(field "$NULL" rps)" "$(field "$NULL" p50_us)" "$(field "$NULL" p99_us)" - - - -
printf "$F" freeradius "$FR_RPS" "$(field "$FR_PEAK" p50_us)" "$(field "$FR_PEAK" p99_us)" \
	"$(field "$FR_HALF" p50_us)" "$(field "$FR_HALF" p99_us)" "$FR_US" "$FR_RSS"
printf "$F" simguard "$SG_RPS" "$(field "$SG_PEAK" p50_us)" "$(field "$SG_PEAK" p99_us)" \
	"$(field "$SG_HALF" p50_us)" "$(field "$SG_HALF" p99_us)" "$SG_US" "$SG_RSS"
echo "ratio simguard/freeradius req/s: $(awk "BEGIN{printf \"%.2f\", $SG_RPS/$FR_RPS}")"
echo "ratio by server CPU per request (freeradius/simguard, median of $ROUNDS rounds): $(awk "BEGIN{printf \"%.2f\", $FR_US/$SG_US}")"
echo "generator CPU per request: $(field "$SG_PEAK" gen_us_per_req) µs (simguard run), $(field "$FR_PEAK" gen_us_per_req) µs (freeradius run)"
echo "generator headroom: null responder took $(awk "BEGIN{printf \"%.1f\", $(field "$NULL" rps)/($SG_RPS>$FR_RPS?$SG_RPS:$FR_RPS)}")x the faster server's peak"
