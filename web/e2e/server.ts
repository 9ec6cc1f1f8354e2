import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { EMPTY_OWNER, PASSWORD } from './helpers';

/** A free port on loopback, so runs never collide with a server already on 8080. */
const freePort = () => new Promise<number>((ok, fail) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const address = s.address();
    s.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
  });
});

/**
 * Starts a real `accord serve --demo` on a temporary database for the whole run (the demo
 * workspace gives every test realistic data and users of every role) and stops it after.
 */
export default async function globalSetup() {
  const binary = process.env.ACCORD_BIN ?? resolve(import.meta.dirname, '../../target/debug/accord');
  const dataDir = mkdtempSync(join(tmpdir(), 'accord-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // A second workspace, empty, for restoring an archive of the demo into.
  const created = spawnSync(binary, ['user', 'create', '--data-dir', dataDir, '--email', EMPTY_OWNER, '--password-stdin', '--workspace', 'Пустое', '--role', 'owner'], { input: `${PASSWORD}\n`, stdio: ['pipe', 'inherit', 'inherit'] });
  if (created.status !== 0) throw new Error(`accord user create exited with ${created.status}`);
  const server = spawn(binary, ['serve', '--demo', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`accord exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('accord did not start within 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  process.env.ACCORD_E2E_URL = url;
  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
