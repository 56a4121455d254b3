const http = require('http');
const s = http.createServer((q, r) => { r.end('ok\n'); });
s.listen(19811, '127.0.0.1', () => console.log('node', process.version, 'keepAliveTimeout', s.keepAliveTimeout, 'headersTimeout', s.headersTimeout, 'requestTimeout', s.requestTimeout));
