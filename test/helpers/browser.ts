// Chromium for the dashboard's browser tests, driven by playwright-core: Debian's `chromium` (or
// CHROMIUM_PATH). Without one the browser tests are skipped with one line saying so, unless
// BRAID_BROWSER_TESTS=required (CI), which turns a missing browser into a failure.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

// CHROMIUM_PATH, when set, is the only one tried (CHROMIUM_PATH=/nonexistent shows what a machine without one does).
const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium executable found on this machine, or null. */
export function findChromium(): string | null {
  for (const path of candidates) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return null;
}

export const browserTestsRequired = process.env.BRAID_BROWSER_TESTS === 'required';

/** Where screenshots go (ignored by git; CI keeps them as artefacts). */
export const screenshotDir = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

export async function launchChromium(executablePath: string): Promise<Browser> {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    // Containers often run as root without user namespaces; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
