import socket, sys, time
port = int(sys.argv[1])
for i in range(5):
    c = socket.create_connection(('127.0.0.1', port))
    c.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    data = b''
    while b'ok\n' not in data:
        data += c.recv(4096)
    t0 = time.monotonic()
    c.settimeout(15)
    r = c.recv(4096)
    print(f'run {i}: idle close after {time.monotonic()-t0:.3f}s recv={r!r}')
    if i == 0: print(data.decode().replace('\r\n', '\n'))
    c.close()
    time.sleep(0.37)
