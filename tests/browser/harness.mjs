// Starts a real `xmeet serve --role template` on a free port with a fresh SQLite file, and
// Debian's Chromium through playwright-core (no browser download, ever).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
export const outDir = process.env.XMEET_TEST_OUTPUT
  ? resolve(process.env.XMEET_TEST_OUTPUT)
  : join(root, 'test-output', 'browser');
mkdirSync(outDir, { recursive: true });

export async function startXmeet() {
  const bin = process.env.XMEET_BIN || join(root, 'target', 'debug', 'xmeet');
  const dir = mkdtempSync(join(tmpdir(), 'xmeet-browser-'));
  const child = spawn(bin, ['serve', '--role', 'template'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      XMEET_TEMPLATE__LISTEN: '127.0.0.1:0',
      XMEET_DATABASE__URL: `sqlite://${join(dir, 'xmeet.db')}`,
      XMEET_LOG__DIR: join(dir, 'logs'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error('xmeet did not start:\n' + output)), 30000);
    const onData = (d) => {
      output += d.toString();
      const m = output.match(/xmeet is listening.*template="([^"]+)"/);
      if (m) { clearTimeout(timer); resolveBase(`http://${m[1]}`); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`xmeet exited with ${code}:\n${output}`)); });
  });
  return {
    base,
    stop: () => new Promise((r) => { child.removeAllListeners('exit'); child.on('exit', r); child.kill('SIGTERM'); }),
  };
}

export async function launch(locale) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push({ type: d.type(), message: d.message() }); await d.accept(); });
  const external = [];
  page.on('request', (req) => { if (!req.url().startsWith('http://127.0.0.1') && !req.url().startsWith('data:') && !req.url().startsWith('about:')) external.push(req.url()); });
  return { browser, page, dialogs, external };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}
