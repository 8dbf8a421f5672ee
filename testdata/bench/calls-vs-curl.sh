#!/usr/bin/env bash
# calls-vs-curl.sh: how long `callscope calls --format csv|json > file` takes for a 1,000,000-line Com.X index,
# beside `curl` downloading the same index to a file from the same server, in the same run.
#
#   bash testdata/bench/calls-vs-curl.sh                  # 5 rounds
#   bash testdata/bench/calls-vs-curl.sh --rounds 9       # more rounds, steadier medians
#   bash testdata/bench/calls-vs-curl.sh --compare main   # also time callscope built from another git revision
#
# Two servers send the index (pbxsim's year of calls, 995,885 extended lines, ~178 MB):
#   nginx    a static file, sent with sendfile(2) as a real Com.X behind a web server sends it, so the time is
#            the client's: this is the ratio that measures callscope;
#   pbxsim   the simulator serving the same index from a data directory (its own sending is slower).
# Each round runs curl, then callscope csv, then json (then the --compare build), one after another, so a busy
# machine slows all alike; the script prints the median wall time of each, its ratio to curl's, and the largest
# peak resident memory (GNU time's %M). Installs what it needs when missing (nginx-light, time, curl: as
# .ci/run does, with sudo when not root) and leaves nothing behind: servers stopped, files removed.
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=5
compare=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --compare) compare=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "calls-vs-curl.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /usr/bin/time ] || need+=(time)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  # The package starts a system nginx on port 80; this script runs its own.
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/calls-vs-curl.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building callscope and pbxsim"
go build -o "$work/callscope" ./cmd/callscope
go build -o "$work/pbxsim" ./cmd/pbxsim
if [ -n "$compare" ]; then
  mkdir "$work/other"
  git archive "$compare" | tar -x -C "$work/other"
  (cd "$work/other" && go build -o "$work/callscope-other" ./cmd/callscope)
fi

mkdir "$work/data"
"$work/pbxsim" --write-index "$work/data/index.txt" --days 365 --per-day 3700 --end 2026-11-01 >"$work/gen.log" 2>&1 ||
  { cat "$work/gen.log" >&2; exit 1; }
chmod 644 "$work/data/index.txt"
lines=$(wc -l < "$work/data/index.txt")
bytes=$(wc -c < "$work/data/index.txt")

# nginx on a free port of its own: no other server's configuration is read or touched.
mkdir "$work/nginx"
start_nginx() {
  local port=$1
  cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    location = /commagui/cdr { default_type text/plain; alias $work/data/index.txt; }
  }
}
EOF
  "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>>"$work/nginx/error.log" &
  pids+=($!)
  for _ in $(seq 50); do
    curl -sf -r 0-0 "http://127.0.0.1:$port/commagui/cdr" > /dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
nginx_url=""
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 40000))
  if start_nginx "$port"; then nginx_url="http://127.0.0.1:$port"; break; fi
done
if [ -z "$nginx_url" ]; then
  echo "calls-vs-curl.sh: nginx did not start: $(tail -3 "$work/nginx/error.log")" >&2
  exit 1
fi

"$work/pbxsim" --addr 127.0.0.1:0 --data "$work/data" --quiet > "$work/pbxsim.out" 2>&1 &
pids+=($!)
pbxsim_url=""
for _ in $(seq 1200); do # it reads and sorts the whole index first
  pbxsim_url=$(sed -n 's|^  Com.X   \(http://[^ ]*\)/commagui/cdr.*|\1|p' "$work/pbxsim.out")
  [ -n "$pbxsim_url" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$pbxsim_url" ]; then
  echo "calls-vs-curl.sh: pbxsim did not start: $(tail -3 "$work/pbxsim.out")" >&2
  exit 1
fi

export CALLSCOPE_PASSWORD='C@11Me' # pbxsim's Com.X default; nginx asks for none
# timed NAME CMD...: runs CMD with stdout to a file, appends "wall_seconds peak_kB" to $work/NAME.
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > "$work/out" 2>"$work/err" || {
    echo "calls-vs-curl.sh: $name failed: $(tail -3 "$work/err")" >&2; exit 1; }
  cat "$work/t" >> "$work/$name"
}
median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
peak() { sort -n | tail -1 | awk '{printf "%d MB", $1/1024}'; }

echo "$lines lines, $((bytes / 1000000)) MB; $rounds rounds on $(nproc) CPUs ($(uname -m)), load $(cut -d' ' -f1-3 /proc/loadavg)"
for server in nginx pbxsim; do
  url=$nginx_url; [ $server = pbxsim ] && url=$pbxsim_url
  for r in $(seq "$rounds"); do
    timed "$server-curl" curl -sf -u "admin:$CALLSCOPE_PASSWORD" "$url/commagui/cdr?format=txt&extended"
    for f in csv json; do
      timed "$server-$f" "$work/callscope" calls --url "$url" --user admin --extended --format $f --tz Africa/Johannesburg
    done
    [ -n "$compare" ] && timed "$server-other" "$work/callscope-other" calls --url "$url" --user admin --extended --format csv --tz Africa/Johannesburg
  done
  c=$(cut -d' ' -f1 "$work/$server-curl" | median)
  printf '%-7s %-24s %6.3f s               %s\n' "$server" curl "$c" "$(cut -d' ' -f2 "$work/$server-curl" | peak)"
  for k in csv json other; do
    [ -f "$work/$server-$k" ] || continue
    label="callscope --format $k"; [ $k = other ] && label="$compare --format csv"
    v=$(cut -d' ' -f1 "$work/$server-$k" | median)
    printf '        %-24s %6.3f s  %5.2f× curl  %s\n' "$label" "$v" "$(awk -v a="$v" -v b="$c" 'BEGIN {print a/b}')" \
      "$(cut -d' ' -f2 "$work/$server-$k" | peak)"
  done
done
