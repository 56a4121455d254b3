#!/usr/bin/env bash
# Measure php-fpm 8.2 / gunicorn 20.1 / uWSGI 2.0.21 behind the real nginx 1.22.1 on loopback.
# Run as root (nginx master as root, workers as www-data or nobody). Every file lives under $ROOT.
# Usage: scripts/research/app-servers.sh [case ...]   (no args = all cases)
# Results: $ROOT/<case>/{result.txt,error.log,access.log,timing.log,<app logs>}
set -u
ROOT=${ROOT:-/tmp/r18-app}
mkdir -p "$ROOT"; chmod 755 "$ROOT"
UA="gwlab-test/1"
NPORT=18801          # nginx
TPORT=19801          # app TCP port (gunicorn / uwsgi / fpm on TCP)

newcase() { # $1 = case name; sets D
  D="$ROOT/$1"; rm -rf "$D"; mkdir -p "$D/tmp" "$D/www"; chmod 755 "$D" "$D/www"
  echo "== case $1 ($(date -u +%FT%TZ))" > "$D/result.txt"
}
log() { echo "$*" | tee -a "$D/result.txt"; }

nginx_start() { # $1 = server-block body, $2 = user (default www-data), $3 = extra http-level text
  local body=$1 user=${2:-www-data} extra=${3:-}
  cat > "$D/nginx.conf" <<NGX
user $user;
worker_processes 1;
daemon on;
pid $D/nginx.pid;
error_log $D/error.log info;
events { worker_connections 64; }
http {
  client_body_temp_path $D/tmp/body; proxy_temp_path $D/tmp/proxy;
  fastcgi_temp_path $D/tmp/fcgi; uwsgi_temp_path $D/tmp/uwsgi; scgi_temp_path $D/tmp/scgi;
  log_format timing '\$remote_addr "\$request" \$status \$body_bytes_sent rt=\$request_time urt=\$upstream_response_time uct=\$upstream_connect_time ua=\$upstream_addr us=\$upstream_status';
  access_log $D/access.log combined;
  access_log $D/timing.log timing;
  $extra
  server {
    listen 127.0.0.1:$NPORT;
    server_name localhost;
    root $D/www;
$body
  }
}
NGX
  nginx -t -p "$D" -c "$D/nginx.conf" > "$D/nginx-t.txt" 2>&1; cat "$D/nginx-t.txt" >> "$D/result.txt"
  nginx -p "$D" -c "$D/nginx.conf"
  sleep 0.3
}
nginx_stop() { [ -f "$D/nginx.pid" ] && kill -QUIT "$(cat "$D/nginx.pid")"; sleep 0.5; }

req() { # $1 = label, $2 = path, rest = extra curl args; prints label status size time
  local label=$1 path=$2; shift 2
  local out
  out=$(curl -s -m 30 -A "$UA" -o "$D/body-$label" -D "$D/hdr-$label" -w '%{http_code} %{size_download} %{time_total}' "$@" "http://127.0.0.1:$NPORT$path")
  log "client $label: GET $path -> $out body=$(head -c 80 "$D/body-$label" | tr '\n' '|')"
}

# ---------------- php-fpm ----------------
php_files() {
  printf '<?php echo "ok\\n";\n' > "$D/www/index.php"
  printf '<?php sleep((int)($_GET["s"] ?? 5)); echo "slept\\n";\n' > "$D/www/slow.php"
  printf '<?php undefined_function_x();\n' > "$D/www/fatal.php"
  chmod 644 "$D/www/"*.php
}
fpm_conf() { # $1 = listen, $2 = extra pool lines
  cat > "$D/php-fpm.conf" <<FPM
[global]
pid = $D/php-fpm.pid
error_log = $D/php-fpm.log
daemonize = no

[www]
user = www-data
group = www-data
listen = $1
listen.owner = www-data
listen.group = www-data
access.log = $D/php-fpm-access.log
$2
FPM
}
fpm_start() { php-fpm8.2 -F -y "$D/php-fpm.conf" -p "$D" > "$D/php-fpm.stderr" 2>&1 & FPMPID=$!; sleep 1; }
fpm_stop() { kill -QUIT "$FPMPID" 2>/dev/null; wait "$FPMPID" 2>/dev/null; sleep 0.3; }
fpm_ps() { ps -o user,pid,ppid,args --ppid "$FPMPID" -p "$FPMPID" >> "$D/result.txt"; ls -la "$D"/*.sock >> "$D/result.txt" 2>&1; }

PHPLOC='    location ~ \.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass unix:'

case_fpm_ok() { # normal request + Primary script unknown + fatal error, dynamic pool, unix socket
  newcase fpm_ok; php_files
  fpm_conf "$D/php-fpm.sock" $'pm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3'
  fpm_start; fpm_ps
  nginx_start "$PHPLOC$D/php-fpm.sock;
    }"
  req ok /index.php
  req missing /missing.php
  req fatal /fatal.php
  nginx_stop; fpm_stop
}
case_fpm_nosock() { # socket path has no fpm
  newcase fpm_nosock; php_files
  nginx_start "$PHPLOC$D/php-fpm.sock;
    }"
  req nosock /index.php
  nginx_stop
}
case_fpm_perm() { # socket 0660 www-data:www-data, nginx worker runs as nobody
  newcase fpm_perm; php_files
  fpm_conf "$D/php-fpm.sock" $'listen.mode = 0660\npm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3'
  fpm_start; fpm_ps
  nginx_start "$PHPLOC$D/php-fpm.sock;
    }" "nobody nogroup"
  ps -o user,pid,args -C nginx | grep "$D" >> "$D/result.txt"
  req perm /index.php
  nginx_stop; fpm_stop
}
case_fpm_tcpdown() {
  newcase fpm_tcpdown; php_files
  nginx_start '    location ~ \.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:'$TPORT';
    }'
  req down /index.php
  nginx_stop
}
maxchildren() { # $1 case, $2 pm lines; 4 parallel requests sleeping 3 s, max_children 2, fastcgi_read_timeout 4s
  newcase "$1"; php_files
  fpm_conf "$D/php-fpm.sock" "$2"
  fpm_start; fpm_ps
  nginx_start "    fastcgi_read_timeout 4s;
$PHPLOC$D/php-fpm.sock;
    }"
  local i pids=""; for i in 1 2 3 4; do req "p$i" "/slow.php?s=3" & pids="$pids $!"; sleep 0.1; done; wait $pids
  sleep 1; fpm_ps
  nginx_stop; fpm_stop
}
case_fpm_max_dynamic() { maxchildren fpm_max_dynamic $'pm = dynamic\npm.max_children = 2\npm.start_servers = 1\npm.min_spare_servers = 1\npm.max_spare_servers = 2'; }
case_fpm_max_ondemand() { maxchildren fpm_max_ondemand $'pm = ondemand\npm.max_children = 2\npm.process_idle_timeout = 10s'; }
case_fpm_max_static() { maxchildren fpm_max_static $'pm = static\npm.max_children = 2'; }
case_fpm_terminate() { # request_terminate_timeout 2s, script sleeps 5 s
  newcase fpm_terminate; php_files
  fpm_conf "$D/php-fpm.sock" $'pm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\nrequest_terminate_timeout = 2s'
  fpm_start
  nginx_start "$PHPLOC$D/php-fpm.sock;
    }"
  req term "/slow.php?s=5"
  sleep 1.5
  nginx_stop; fpm_stop
}
case_fpm_more() { # fastcgi_buffer_size (default 4k) vs a 6000-byte response header; SCRIPT_FILENAME with a wrong root
  newcase fpm_more; php_files
  printf '<?php header("X-Big: " . str_repeat("a", 6000)); echo "ok\\n";\n' > "$D/www/bighdr.php"; chmod 644 "$D/www/bighdr.php"
  fpm_conf "$D/php-fpm.sock" $'pm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3'
  fpm_start
  nginx_start "$PHPLOC$D/php-fpm.sock;
    }
    location ^~ /wrongroot/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME /var/www/html\$fastcgi_script_name;
      fastcgi_pass unix:$D/php-fpm.sock;
    }"
  req bighdr /bighdr.php
  req wrongroot /wrongroot/index.php
  nginx_stop; fpm_stop
}
case_fpm_debian_sock() { # Debian's own pool settings (owner/group www-data, default mode) -> ls -la of the socket
  newcase fpm_debian_sock
  fpm_conf "$D/php8.2-fpm.sock" $'pm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3'
  fpm_start; fpm_ps
  ps aux | grep "[p]hp-fpm" >> "$D/result.txt"
  fpm_stop
}

# ---------------- gunicorn ----------------
py_app() {
  cat > "$D/app.py" <<'PY'
import time
def app(environ, start_response):
    path = environ.get('PATH_INFO', '/')
    if path.startswith('/slow'):
        time.sleep(float(environ.get('QUERY_STRING') or 5))
    body = b'ok\n'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
PY
  chmod 644 "$D/app.py"; chown www-data:www-data "$D"
}
guni_start() { # extra gunicorn args
  runuser -u www-data -- gunicorn --chdir "$D" --bind 127.0.0.1:$TPORT --access-logfile "$D/gunicorn-access.log" \
    --error-logfile "$D/gunicorn-error.log" "$@" app:app > "$D/gunicorn.stdout" 2>&1 & GPID=$!
  sleep 1.5
  ps -o user,pid,ppid,args --ppid "$(pgrep -u www-data -f -o "gunicorn --chdir $D")" -p "$(pgrep -u www-data -f -o "gunicorn --chdir $D")" >> "$D/result.txt" 2>&1
}
guni_stop() { local m; m=$(pgrep -u www-data -f -o "gunicorn --chdir $D"); [ -n "$m" ] && kill -TERM "$m"; wait "$GPID" 2>/dev/null; sleep 0.3; }
PROXYLOC='    location / { proxy_pass http://127.0.0.1:'$TPORT'; '

case_guni_timeout() { # sync worker --timeout 2, request sleeps 5, proxy_read_timeout 1s then 60s
  newcase guni_timeout; py_app
  guni_start --workers 1 --timeout 2
  nginx_start "$PROXYLOC proxy_read_timeout 60s; }
    location /r1/ { proxy_pass http://127.0.0.1:$TPORT/; proxy_read_timeout 1s; }
    location /r300/ { proxy_pass http://127.0.0.1:$TPORT/; proxy_read_timeout 300s; }"
  req ok /
  req t60 "/slow?5"
  sleep 3
  req t300 "/r300/slow?5"
  sleep 3
  req t1 "/r1/slow?5"
  sleep 5
  curl -s -i -A "$UA" "http://127.0.0.1:$TPORT/" > "$D/direct.txt"; cat "$D/direct.txt" >> "$D/result.txt"
  ps -o user,pid,ppid,args --ppid "$(pgrep -u www-data -f -o "gunicorn --chdir $D")" -p "$(pgrep -u www-data -f -o "gunicorn --chdir $D")" >> "$D/result.txt" 2>&1
  ps aux | grep "[g]unicorn" >> "$D/result.txt"
  nginx_stop; guni_stop
}
case_guni_down() {
  newcase guni_down
  nginx_start "$PROXYLOC }"
  req down /
  nginx_stop
}
keepalive_probe() { # nginx upstream keepalive pool; pairs of requests with a growing gap; bounded
  local gap
  for gap in 1.0 1.5 1.9 2.0 2.1 2.2 2.4 2.6 2.8 2.9 3.0 3.1 3.2 3.5; do
    req "a$gap" /; sleep "$gap"; req "b$gap" /
    sleep 4   # let the server drop the connection before the next pair
  done
}
case_guni_gthread() { # gthread --keep-alive 2 behind nginx keepalive pool
  newcase guni_gthread; py_app
  guni_start --workers 1 --threads 2 --worker-class gthread --keep-alive 2
  nginx_start "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" www-data \
    "upstream app { server 127.0.0.1:$TPORT; keepalive 4; }"
  curl -s -i -A "$UA" "http://127.0.0.1:$TPORT/" > "$D/direct.txt"; cat "$D/direct.txt" >> "$D/result.txt"
  keepalive_probe
  nginx_stop; guni_stop
}
case_guni_race_get() { RACE_CASE=guni_race_get RACE_METHOD=GET case_guni_race; }
case_guni_race() { # gthread --keep-alive 2, nginx keepalive pool, POSTs with idle gaps swept (default 1.985..2.015 s, 1 ms steps)
  newcase "${RACE_CASE:-guni_race}"; py_app
  guni_start --workers 1 --threads 2 --worker-class gthread --keep-alive 2
  nginx_start "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" www-data \
    "upstream app { server 127.0.0.1:$TPORT; keepalive 4; }"
  RACE_METHOD=${RACE_METHOD:-POST} python3 "$(dirname "$0")/gthread-race.py" $NPORT ${RACE_START:-1985000} ${RACE_END:-2015000} ${RACE_STEP:-1000} ${RACE_REPS:-1} | tee -a "$D/result.txt"
  nginx_stop; guni_stop
}
case_guni_sync_keepalive() { # sync worker behind nginx keepalive pool: Connection: close every time
  newcase guni_sync_keepalive; py_app
  guni_start --workers 1
  nginx_start "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" www-data \
    "upstream app { server 127.0.0.1:$TPORT; keepalive 4; }"
  curl -s -i -A "$UA" "http://127.0.0.1:$TPORT/" > "$D/direct.txt"; cat "$D/direct.txt" >> "$D/result.txt"
  req s1 /; req s2 /; sleep 0.5; req s3 /
  ss -tn state established "( dport = :$TPORT )" >> "$D/result.txt"
  nginx_stop; guni_stop
}

case_hap_guni() { # HAProxy 2.6 in front of gunicorn sync --timeout 2: slow request, then gunicorn down
  newcase hap_guni; py_app
  cat > "$D/haproxy.cfg" <<HAP
global
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 30s
  timeout server 60s
frontend fe
  bind 127.0.0.1:18802
  default_backend be
backend be
  server app 127.0.0.1:$TPORT
HAP
  haproxy -c -f "$D/haproxy.cfg" >> "$D/result.txt" 2>&1
  haproxy -f "$D/haproxy.cfg" -db > "$D/haproxy-stdout.log" 2> "$D/haproxy-stderr.log" & HPID=$!
  guni_start --workers 1 --timeout 2
  local o
  o=$(curl -s -m 30 -A "$UA" -o "$D/body-hslow" -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:18802/slow?5"); log "client hslow: GET /slow?5 -> $o"
  guni_stop
  o=$(curl -s -m 30 -A "$UA" -o "$D/body-hdown" -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:18802/"); log "client hdown: GET / -> $o"
  kill -USR1 $HPID; wait $HPID
}

# ---------------- uWSGI ----------------
uw_start() {
  runuser -u www-data -- uwsgi --plugin python3 --master --processes 1 --socket 127.0.0.1:$TPORT \
    --chdir "$D" --wsgi-file "$D/app.py" --callable app --logto "$D/uwsgi.log" "$@" > "$D/uwsgi.stdout" 2>&1 & UPID=$!
  sleep 1.5
  ps -o user,pid,ppid,args --ppid "$(pgrep -u www-data -f -o "uwsgi --plugin python3 --master --processes 1 --socket 127.0.0.1:$TPORT")" \
    -p "$(pgrep -u www-data -f -o "uwsgi --plugin python3 --master --processes 1 --socket 127.0.0.1:$TPORT")" >> "$D/result.txt" 2>&1
}
uw_stop() { local m; m=$(pgrep -u www-data -f -o "uwsgi --plugin python3 --master --processes 1 --socket 127.0.0.1:$TPORT"); [ -n "$m" ] && kill -INT "$m"; wait "$UPID" 2>/dev/null; sleep 0.3; }
UWLOC='    location / { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:'$TPORT'; '

case_uw_bufsize() { # big cookie > buffer-size 4096
  newcase uw_bufsize; py_app
  uw_start --buffer-size 4096
  nginx_start "$UWLOC }" www-data "large_client_header_buffers 4 16k;"
  req ok /
  req cookie3000 / -H "Cookie: a=$(head -c 3000 /dev/zero | tr '\0' x)"
  req cookie4000 / -H "Cookie: a=$(head -c 4000 /dev/zero | tr '\0' x)"
  req cookie8000 / -H "Cookie: a=$(head -c 8000 /dev/zero | tr '\0' x)"
  nginx_stop; uw_stop
}
case_uw_harakiri() {
  newcase uw_harakiri; py_app
  uw_start --harakiri 2
  nginx_start "$UWLOC uwsgi_read_timeout 60s; }"
  req slow "/slow?5"
  sleep 2
  req after /
  nginx_stop; uw_stop
}
case_uw_down() {
  newcase uw_down
  nginx_start "$UWLOC }
    location /sock { include /etc/nginx/uwsgi_params; uwsgi_pass unix:$D/uwsgi.sock; }"
  req down /
  req nosock /sock
  nginx_stop
}

ALL="fpm_ok fpm_nosock fpm_perm fpm_tcpdown fpm_max_dynamic fpm_max_ondemand fpm_max_static fpm_terminate fpm_debian_sock guni_timeout guni_down guni_sync_keepalive guni_gthread uw_bufsize uw_harakiri uw_down"
for c in ${@:-$ALL}; do "case_$c"; done
