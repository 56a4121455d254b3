#!/usr/bin/env python3
"""Run one real proxy (apache | caddy | varnish) on loopback in front of
r19_upstream.py and record, per case: status, headers, body, time, the
connect() calls the proxy made (strace), the accepts the upstream saw, and the
new lines of the proxy's logs.  Output: DIR/report.txt (raw, copied into
docs/research/apache-caddy-varnish-observations.md).

usage (as root): r19_run.py apache|caddy|varnish [DIR [CASE...]]
(with CASE arguments only those requests are sent, in that order)
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

PROXY = sys.argv[1]
DIR = sys.argv[2] if len(sys.argv) > 2 else f"/tmp/r19/{PROXY}"
HERE = os.path.dirname(os.path.abspath(__file__))
BASE = 3100
PORTS = {"ok": 3100, "close": 3101, "reset": 3102, "slow": 3103, "badheader": 3104,
         "app503": 3105, "blackhole": 3106, "refused": 3199, "balrefused": 3198,
         "retryrefused": 3197, "balnofr": 3196, "kaclose": 3107, "kaidle": 3108}
LISTEN = {"apache": 18091, "caddy": 18092, "varnish": 18093}[PROXY]
SLOW = 3
UNRES = "nonexistent.invalid"

shutil.rmtree(DIR, ignore_errors=True)
os.makedirs(DIR + "/run")
os.chmod(DIR, 0o755)
report = open(f"{DIR}/report.txt", "w")


def out(s=""):
    print(s)
    report.write(s + "\n")
    report.flush()


def sh(cmd, **kw):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout + p.stderr


def sh_ns(cmd, **kw):
    """cmd with /etc/resolv.conf pointing at the local NXDOMAIN responder"""
    return sh(f"unshare -m sh -c 'mount --bind {DIR}/resolv.conf /etc/resolv.conf && {cmd}'", **kw)


# ---------------------------------------------------------------- configs
CASES = ["ok", "refused", "refused", "close", "reset", "slow", "badheader", "app503", "blackhole", "unresolvable",
         "kaclose", "kaclose"]


def apache_conf():
    m = "/usr/lib/apache2/modules"
    lines = [
        f"ServerRoot {DIR}",
        f"Listen 127.0.0.1:{LISTEN}",
        f"PidFile {DIR}/httpd.pid",
        f"DefaultRuntimeDir {DIR}/run",
        f"Mutex file:{DIR}/run default",
        f"LoadModule mpm_event_module {m}/mod_mpm_event.so",
        f"LoadModule authz_core_module {m}/mod_authz_core.so",
        f"LoadModule proxy_module {m}/mod_proxy.so",
        f"LoadModule proxy_http_module {m}/mod_proxy_http.so",
        f"LoadModule proxy_balancer_module {m}/mod_proxy_balancer.so",
        f"LoadModule slotmem_shm_module {m}/mod_slotmem_shm.so",
        f"LoadModule lbmethod_byrequests_module {m}/mod_lbmethod_byrequests.so",
        "User nobody",
        "Group nogroup",
        "ServerName localhost",
        f"ErrorLog {DIR}/error.log",
        "LogLevel warn",
        'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
        f"CustomLog {DIR}/access.log combined",
        "ProxyTimeout 1",
        # one child process, so that a pooled backend connection is reused by the next request
        "StartServers 1",
        "ServerLimit 1",
        "ThreadsPerChild 25",
        "MaxRequestWorkers 25",
    ]
    for case in ["ok", "close", "reset", "slow", "badheader", "app503", "blackhole", "refused", "kaclose", "kaidle"]:
        lines.append(f"ProxyPass /{case} http://127.0.0.1:{PORTS[case]}/{case}")
    lines.append(f"ProxyPass /unresolvable http://{UNRES}:3100/unresolvable")
    lines += [
        "<Proxy balancer://bal>",
        f"  BalancerMember http://127.0.0.1:{PORTS['balrefused']} retry=5",
        "</Proxy>",
        "ProxyPass /balrefused balancer://bal/balrefused",
        # a plain ProxyPass with an explicit retry=5
        f"ProxyPass /retryrefused http://127.0.0.1:{PORTS['retryrefused']}/retryrefused retry=5",
        # a balancer whose forcerecovery (default On) is Off
        "<Proxy balancer://balnofr>",
        f"  BalancerMember http://127.0.0.1:{PORTS['balnofr']} retry=5",
        "  ProxySet forcerecovery=Off",
        "</Proxy>",
        "ProxyPass /balnofr balancer://balnofr/balnofr",
    ]
    return "\n".join(lines) + "\n"


def caddy_conf():
    t = "transport http {\n\t\t\tdial_timeout 1s\n\t\t\tresponse_header_timeout 1s\n\t\t}"
    s = "{\n\tadmin off\n\tauto_https off\n\tstorage file_system " + DIR + "/data\n"
    s += "\tlog default {\n\t\toutput file " + DIR + "/error.log\n\t\tformat json\n\t\texclude http.log.access\n\t}\n}\n"
    s += f"http://127.0.0.1:{LISTEN} {{\n\tlog {{\n\t\toutput file {DIR}/access.log\n\t\tformat json\n\t}}\n"
    for case in ["ok", "close", "reset", "slow", "badheader", "app503", "blackhole", "refused", "kaclose", "kaidle"]:
        s += f"\thandle /{case} {{\n\t\treverse_proxy 127.0.0.1:{PORTS[case]} {{\n\t\t{t}\n\t\t}}\n\t}}\n"
    s += f"\thandle /unresolvable {{\n\t\treverse_proxy {UNRES}:3100 {{\n\t\t{t}\n\t\t}}\n\t}}\n"
    s += (f"\thandle /refusedretry {{\n\t\treverse_proxy 127.0.0.1:{PORTS['refused']} {{\n"
          f"\t\t\tlb_try_duration 2s\n\t\t{t}\n\t\t}}\n\t}}\n")
    s += "}\n"
    return s


def varnish_vcl(unres=False):
    s = "vcl 4.1;\n\n"
    cases = ["ok", "close", "reset", "slow", "badheader", "app503", "blackhole", "refused", "kaclose", "kaidle"]
    for case in cases:
        s += (f'backend b_{case} {{\n\t.host = "127.0.0.1";\n\t.port = "{PORTS[case]}";\n'
              f"\t.connect_timeout = 1s;\n\t.first_byte_timeout = 1s;\n\t.between_bytes_timeout = 1s;\n}}\n\n")
    if unres:
        s += f'backend b_unresolvable {{\n\t.host = "{UNRES}";\n\t.port = "3100";\n}}\n\n'
    s += "sub vcl_recv {\n"
    for case in cases:
        s += f'\tif (req.url ~ "^/{case}") {{\n\t\tset req.backend_hint = b_{case};\n\t}}\n'
    s += "\treturn (pass);\n}\n"
    return s


# ---------------------------------------------------------------- start
up = subprocess.Popen([sys.executable, f"{HERE}/r19_upstream.py", DIR, str(BASE), str(SLOW)],
                      stdout=subprocess.PIPE, text=True)
assert up.stdout.readline().strip() == "ready"
time.sleep(0.3)

# The unresolvable case must not leave the machine: the proxy runs in its own
# mount namespace where /etc/resolv.conf says "nameserver 127.0.0.1", and this
# thread answers every query there with NXDOMAIN (RCODE 3).
import socket
import threading


def nxdomain():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))
    while True:
        q, peer = s.recvfrom(512)
        with open(f"{DIR}/dns.log", "a") as f:
            f.write(f"{time.time():.3f} query from {peer} {q[12:]!r}\n")
        # header: same id, QR=1 opcode=0 RD copied, RA=1, RCODE=3; QDCOUNT=1, others 0
        flags = bytes([0x80 | (q[2] & 0x01), 0x83])
        s.sendto(q[:2] + flags + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)


threading.Thread(target=nxdomain, daemon=True).start()
open(f"{DIR}/resolv.conf", "w").write("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")

env = dict(os.environ)
if PROXY == "apache":
    conf = f"{DIR}/httpd.conf"
    open(conf, "w").write(apache_conf())
    rc, o = sh_ns(f"apache2 -t -f {conf}")
    out(f"$ apache2 -t -f {conf}\n{o.strip()}\n(rc={rc})")
    cmd = ["apache2", "-f", conf, "-DFOREGROUND"]
elif PROXY == "caddy":
    conf = f"{DIR}/Caddyfile"
    open(conf, "w").write(caddy_conf())
    env.update(XDG_DATA_HOME=f"{DIR}/xdg-data", XDG_CONFIG_HOME=f"{DIR}/xdg-config", HOME=DIR)
    rc, o = sh_ns(f"caddy validate --config {conf} --adapter caddyfile", env=env)
    out(f"$ caddy validate --config {conf} --adapter caddyfile\n{o.strip()}\n(rc={rc})")
    cmd = ["caddy", "run", "--config", conf, "--adapter", "caddyfile"]
else:
    conf = f"{DIR}/default.vcl"
    open(conf, "w").write(varnish_vcl())
    open(f"{DIR}/unres.vcl", "w").write(varnish_vcl(unres=True))
    for f in [conf, f"{DIR}/unres.vcl"]:
        rc, o = sh_ns(f"varnishd -C -f {f} -n {DIR}/vc")
        first = "\n".join(o.strip().splitlines()[:3]) if rc == 0 else o.strip()
        out(f"$ varnishd -C -f {f}\n{first}\n...(rc={rc})")
    cmd = ["varnishd", "-F", "-n", f"{DIR}/n", "-a", f"127.0.0.1:{LISTEN}", "-f", conf, "-s", "malloc,32m"]

out("config:\n" + open(conf).read())
strace_file = f"{DIR}/strace.txt"
inner = " ".join(["strace", "-f", "-qq", "-e", "trace=connect", "-o", strace_file] + [f"'{c}'" for c in cmd])
ns = ["unshare", "-m", "sh", "-c", f"mount --bind {DIR}/resolv.conf /etc/resolv.conf && exec {inner}"]
proc = subprocess.Popen(ns,
                        stdout=open(f"{DIR}/stdout.txt", "w"), stderr=open(f"{DIR}/stderr.txt", "w"),
                        env=env, start_new_session=True)
for _ in range(100):
    if sh(f"ss -ltn 'sport = :{LISTEN}'")[1].count("LISTEN"):
        break
    time.sleep(0.2)
time.sleep(1.0)

# varnishlog / varnishncsa in the background for the whole run
bg = []
if PROXY == "varnish":
    bg.append(subprocess.Popen(["varnishlog", "-n", f"{DIR}/n", "-g", "request"],
                               stdout=open(f"{DIR}/varnishlog.txt", "w"), stderr=subprocess.STDOUT))
    bg.append(subprocess.Popen(["varnishncsa", "-n", f"{DIR}/n"],
                               stdout=open(f"{DIR}/access.log", "w"), stderr=subprocess.STDOUT))
    time.sleep(1.0)


def size(f):
    return os.path.getsize(f) if os.path.exists(f) else 0


def tail_from(f, off):
    if not os.path.exists(f):
        return ""
    with open(f, errors="replace") as fh:
        fh.seek(off)
        return fh.read()


LOGS = [f"{DIR}/error.log", f"{DIR}/access.log", f"{DIR}/stderr.txt", f"{DIR}/stdout.txt"]
if PROXY == "varnish":
    LOGS = [f"{DIR}/varnishlog.txt", f"{DIR}/access.log", f"{DIR}/stderr.txt"]

extra = {"apache": ["balrefused", "balrefused", "retryrefused", "retryrefused", "balnofr", "balnofr"], "caddy": ["refusedretry"], "varnish": []}[PROXY]
todo = sys.argv[3:] if len(sys.argv) > 3 else CASES + extra
for i, case in enumerate(todo):
    offs = {f: size(f) for f in LOGS + [strace_file, f"{DIR}/dns.log"]}
    upoffs = {m: size(f"{DIR}/up-{m}.log") for m in PORTS}
    url = f"http://127.0.0.1:{LISTEN}/{case}"
    t = time.time()
    rc, o = sh(f"curl -s -A 'gwlab-r19/{i}' -D {DIR}/h{i} -o {DIR}/b{i} -w '%{{http_code}} %{{time_total}}' --max-time 20 {url}")
    time.sleep(1.5 if PROXY == "varnish" else 0.5)
    out(f"\n=================== case {case} (request {i}: GET /{case}, UA gwlab-r19/{i})")
    out(f"curl rc={rc} -> {o}")
    out("--- response headers")
    out(open(f"{DIR}/h{i}", errors="replace").read().replace("\r", "").strip())
    body = open(f"{DIR}/b{i}", "rb").read()
    out(f"--- body ({len(body)} bytes)")
    out(body.decode("utf-8", "replace"))
    new_strace = tail_from(strace_file, offs[strace_file])
    conns = [l for l in new_strace.splitlines() if "sin_port=htons(31" in l or "sin6_port" in l or "htons(53)" in l]
    out(f"--- connect() calls by the proxy to upstream ports during this request ({len(conns)})")
    for l in conns:
        out(l)
    for m in PORTS:
        n = tail_from(f"{DIR}/up-{m}.log", upoffs[m]).strip()
        if n:
            out(f"--- upstream {m} log\n{n}")
    for f in LOGS + [f"{DIR}/dns.log"]:
        n = tail_from(f, offs.get(f, 0)).rstrip()
        if n:
            out(f"--- new lines in {os.path.basename(f)}\n{n}")

# ---------------------------------------------------------------- stop
time.sleep(1)
for p in bg:
    p.send_signal(signal.SIGINT)
    p.wait(timeout=5)
if PROXY == "apache":
    sh(f"kill -TERM $(cat {DIR}/httpd.pid)")
else:
    os.killpg(proc.pid, signal.SIGINT if PROXY == "caddy" else signal.SIGTERM)
try:
    proc.wait(timeout=15)
except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
up.kill()
for f in LOGS:
    out(f"\n=================== full {os.path.basename(f)}\n{open(f, errors='replace').read() if os.path.exists(f) else '(none)'}")
if PROXY == "varnish":
    out("=================== varnishncsa written live (access.log above)")
