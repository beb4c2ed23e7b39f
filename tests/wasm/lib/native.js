// The native server on a free loopback port, for the browser engine's answers to be set
// against: start(bin, modelDir) resolves to { request(path, body), close() }.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

export async function start(bin, modelDir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--model', modelDir, '--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore' });
  const request = async (path, body) => {
    const init = body === undefined ? {} : {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
    };
    const response = await fetch(url + path, init);
    return { status: response.status, data: await response.json() };
  };
  for (let tries = 0; ; tries += 1) {
    try {
      if ((await request('/api/health')).status === 200) break;
    } catch (e) {
      if (tries > 300 || child.exitCode !== null) throw new Error(`the native server never answered: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { request, close: () => child.kill() };
}
