#!/usr/bin/env python3
"""Render docs/research/app-servers-observations.md from the template, pasting real files.

Directives (each alone on a line):
  @@FILE path@@            paste path (relative to ROOT, default /tmp/r18-app) verbatim
  @@FILE path !REGEX@@     ... without lines matching REGEX
  @@FILE path =REGEX@@     ... only lines matching REGEX
  @@NFILE ...@@            same, with process ids replaced by N (app-server logs)
Usage: render-app-servers-doc.py TEMPLATE OUT [ROOT]"""
import os, re, sys

tmpl, out = sys.argv[1], sys.argv[2]
root = sys.argv[3] if len(sys.argv) > 3 else '/tmp/r18-app'
DIRECTIVE = re.compile(r'^@@(N?FILE) (\S+)(?: ([!=])(.*))?@@$')
PID_RULES = [
    (re.compile(r'(\[pid: |new pid: |\(pid: ?|pid: |pid:|with pid |is running, pid |child )\d+'), r'\1N'),
    (re.compile(r'\] \[\d+\] \['), '] [N] ['),
    (re.compile(r'\(\d+\)$'), '(N)'),
]

def norm(line):
    for rx, rep in PID_RULES:
        line = rx.sub(rep, line)
    return line

res = []
for line in open(tmpl, encoding='utf-8').read().split('\n'):
    m = DIRECTIVE.match(line)
    if not m:
        res.append(line)
        continue
    kind, path, op, rx = m.groups()
    with open(os.path.join(root, path), encoding='utf-8', errors='replace', newline='') as f:
        # CRs (from HTTP headers/bodies captured by curl) are dropped, not turned into line breaks
        lines = f.read().replace('\r', '').rstrip('\n').split('\n')
    if op == '!':
        lines = [l for l in lines if not re.search(rx, l)]
    elif op == '=':
        lines = [l for l in lines if re.search(rx, l)]
    if kind == 'NFILE':
        lines = [norm(l) for l in lines]
    if not lines or lines == ['']:
        lines = ['(empty)']
    res.extend(lines)
open(out, 'w', encoding='utf-8').write('\n'.join(res))
