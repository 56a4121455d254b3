#!/usr/bin/env python3
"""Keep-alive race probe: POST (not retried by nginx) through nginx's upstream keepalive pool,
with idle gaps swept around the app's idle-close time. Bounded: len(GAPS)*REPS requests.
Usage: gthread-race.py NGINX_PORT START_US END_US [STEP_US] [REPS]   (env RACE_METHOD=GET to send GETs)"""
import os
import http.client, sys, time
port, start, end = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
step = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
reps = int(sys.argv[5]) if len(sys.argv) > 5 else 1
GAPS = [us / 1e6 for us in range(start, end + 1, step)] * reps
METHOD = os.environ.get('RACE_METHOD', 'POST')
def post(i):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    if METHOD == 'POST':
        c.request('POST', f'/race/{i}', body=b'x=1', headers={'User-Agent': 'gwlab-race/1', 'Content-Type': 'text/plain'})
    else:
        c.request('GET', f'/race/{i}', headers={'User-Agent': 'gwlab-race/1'})
    r = c.getresponse(); body = r.read(); c.close()
    return r.status, len(body)
print('warm', post(0))
for i, gap in enumerate(GAPS, 1):
    time.sleep(gap)
    st, n = post(i)
    print(f'{i} gap={gap:.4f} status={st} bytes={n}', flush=True)
