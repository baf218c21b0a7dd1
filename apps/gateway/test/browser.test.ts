// End to end in a real browser (Debian's chromium driven by playwright-core): open the page,
// sign in with the token, create and start a VM, see the guest's serial line in the terminal.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages } from './support/guests.js';
import { startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

const CHROMIUM = process.env.QUASIVM_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);

let vcpu: ServiceProcess;
let gw: GatewayProcess;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await vcpu?.stop('SIGKILL');
});

if (!haveChromium) {
  test.skip('skipped: chromium not installed', () => undefined);
} else {
  test('in chromium: sign in with the token, create and start a VM, read its serial line in the terminal', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(gw.url);

    await page.fill('#token-input', 'not-the-right-token');
    await page.click('#token-form button[type=submit]');
    await expect.poll(() => page.textContent('#token-error')).toContain('not valid');

    await page.fill('#token-input', gw.token);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');

    await page.fill('#create-form input[name=name]', 'in-browser');
    await page.fill('#create-form input[name=ramMib]', '2');
    await page.selectOption('#create-form select[name=backend]', 'soft');
    await page.fill('#create-form input[name=firmware]', guestImages['serial-hello']);
    await page.click('#create-form button[type=submit]');

    await page.waitForFunction(() => document.querySelector('#terminal .xterm-rows')?.textContent?.includes('serial-hello: Hello from quasivm!'), undefined, { timeout: 60_000 });
    await expect.poll(() => page.textContent('#vm-table tbody'), { timeout: 20_000 }).toMatch(/in-browser\s*halted/);
    await expect.poll(() => page.textContent('#event-list'), { timeout: 20_000 }).toContain('halted');

    // a spec the gateway refuses is explained on the page, naming the field
    await page.fill('#create-form textarea[name=devices]', 'timer=nowhere');
    await page.click('#create-form button[type=submit]');
    await expect.poll(() => page.textContent('#create-error')).toContain('field "devices[0].address" must be host:port');
    expect(problems).toEqual([]);
    await page.close();
  });
}
