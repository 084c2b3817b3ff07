import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { arm, startTestKeyless } from '../support/keyless.js';
import type { StartedKeyless } from '../../src/index.js';
import { portalUrl, seedEnvironment } from './support.js';

const CHROMIUM = process.env['KEYLESS_CHROMIUM'] ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts/portal');
const haveChromium = fs.existsSync(CHROMIUM);
const required = process.env['KEYLESS_REQUIRE_ALL'] === '1';

/** The flags that work on these machines (closed network, root): no sandbox, GPU, QUIC or background traffic. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The server's public key, pinned for Chromium: `--ignore-certificate-errors-spki-list` makes it accept
 * this one key (and no other untrusted certificate), which is narrower than ignoring every TLS error.
 */
async function serverSpki(k: StartedKeyless): Promise<string> {
  const { port } = new URL(k.endpoints.resourceManager);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca: fs.readFileSync(k.caFile) }, () => {
      const der = s.getPeerCertificate().pubkey;
      if (!der) return reject(new Error('the server certificate has no public key'));
      s.end();
      resolve(createHash('sha256').update(der).digest('base64'));
    });
    s.on('error', reject);
  });
}

// Playwright starts Chromium with a fresh temporary profile of its own (--user-data-dir) each launch.
const suite = haveChromium || required ? describe : describe.skip;

suite(haveChromium || required ? 'portal in headless Chromium' : `portal in headless Chromium: skipped, no ${CHROMIUM} (KEYLESS_REQUIRE_ALL=1 fails instead)`, () => {
  let k: StartedKeyless;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let env: Awaited<ReturnType<typeof seedEnvironment>>;
  let systemPrincipalId = '';

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`KEYLESS_REQUIRE_ALL=1 but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    k = await startTestKeyless();
    env = await seedEnvironment(k);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...FLAGS, `--ignore-certificate-errors-spki-list=${await serverSpki(k)}`],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB' });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await k?.stop();
  });

  it('signs in with the admin credential', async () => {
    await page.goto(portalUrl(k, '/portal/'));
    await page.waitForURL(/\/portal\/sign-in$/);
    await shot('01-sign-in');
    await page.fill('#client_id', k.admin.clientId);
    await page.fill('#client_secret', 'wrong-secret');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('.alert-error').textContent()).toContain('Sign-in failed');
    await page.fill('#client_secret', k.admin.clientSecret!);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/portal\/$/);
    await page.getByRole('heading', { name: 'Resource groups' }).waitFor();
    await page.getByRole('link', { name: 'web-vm' }).waitFor();
    expect(await page.locator('.user-id').textContent()).toContain(k.admin.clientId);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/portal' });
    expect(await page.evaluate('document.cookie')).toBe('');
    await shot('02-resources');
  }, 60_000);

  it('enables the system-assigned identity with the toggle and shows its Object (principal) ID', async () => {
    await page.getByRole('link', { name: 'web-vm' }).first().click();
    await page.getByRole('tab', { name: 'Identity' }).click();
    await page.getByRole('radio', { name: 'On' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enable system assigned managed identity' });
    await dialog.waitFor();
    await shot('03a-identity-confirm');
    await dialog.getByRole('button', { name: 'Yes' }).click();
    const oid = page.getByLabel('Object (principal) ID');
    await oid.waitFor();
    systemPrincipalId = ((await oid.textContent()) ?? '').trim();
    expect(systemPrincipalId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const vm = await arm(k, 'GET', env.vm);
    expect(vm.json.identity.principalId).toBe(systemPrincipalId);
    await page.getByText('System assigned identity enabled').waitFor();
    await shot('03-identity');
  }, 60_000);

  it('adds and removes a user-assigned identity', async () => {
    await page.getByRole('tab', { name: 'User assigned' }).click();
    await page.getByLabel('User assigned identity to add').selectOption({ label: 'app-id (portal-rg)' });
    await page.getByRole('button', { name: '+ Add' }).click();
    const table = page.getByRole('table', { name: 'User assigned identities' });
    await expect.poll(() => table.textContent()).toContain(env.uaiPrincipalId);
    let vm = await arm(k, 'GET', env.vm);
    expect(vm.json.identity.type).toBe('SystemAssigned, UserAssigned');
    expect(Object.keys(vm.json.identity.userAssignedIdentities)).toHaveLength(1);
    await shot('03b-user-assigned');
    await table.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => table.textContent()).toContain('No user assigned identities');
    vm = await arm(k, 'GET', env.vm);
    expect(vm.json.identity.type).toBe('SystemAssigned');
    await page.getByRole('tab', { name: 'System assigned' }).click();
  }, 60_000);

  it('adds a role assignment with the role picker and shows inherited ones as inherited', async () => {
    await page.getByRole('tab', { name: 'Access control (IAM)' }).click();
    await page.getByRole('table', { name: 'Role assignments' }).waitFor();
    // The admin's Owner on the subscription reaches the VM: inherited, with the scope it comes from.
    const owner = page.getByRole('row').filter({ hasText: 'Owner' });
    await expect.poll(() => owner.first().textContent()).toContain('Inherited');
    await page.getByRole('button', { name: '+ Add role assignment' }).click();
    await page.getByLabel('Search roles').fill('Reader');
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Reader' });
    await page.getByPlaceholder('Object (principal) ID').fill(systemPrincipalId);
    await shot('04a-add-role-assignment');
    await page.getByRole('button', { name: 'Review + assign' }).click();
    await page.getByText('Reader assigned.').waitFor();
    const row = page.getByRole('row').filter({ hasText: systemPrincipalId });
    await expect.poll(() => row.first().textContent()).toContain('Reader');
    await expect.poll(() => row.first().textContent()).toContain('This resource');
    await expect.poll(() => row.first().textContent()).toContain('web-vm');
    const assignments = await arm(k, 'GET', `${env.vm}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()`);
    expect(assignments.json.value.some((a: { properties: { principalId: string; scope: string } }) => a.properties.principalId === systemPrincipalId && a.properties.scope === env.vm)).toBe(true);
    await shot('04-iam');
  }, 60_000);

  it("uses Check access and shows the engine's explanation", async () => {
    await page.getByRole('tab', { name: 'Check access' }).click();
    await page.getByPlaceholder('Object (principal) ID').fill(systemPrincipalId);
    await page.getByLabel('Action', { exact: true }).fill('Microsoft.Compute/virtualMachines/read');
    await page.getByRole('button', { name: 'Check access' }).click();
    const verdict = page.getByLabel('Check access result');
    await verdict.waitFor();
    expect(await verdict.locator('.badge').textContent()).toBe('Allowed');
    const text = (await verdict.locator('pre').textContent()) ?? '';
    expect(text).toContain('Reader');
    expect(text).toContain(env.vm);
    // Writing is not what Reader grants: Denied, with the reason.
    await page.getByLabel('Action', { exact: true }).fill('Microsoft.Compute/virtualMachines/write');
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect.poll(() => verdict.locator('.badge').textContent()).toBe('Denied');
    await page.getByLabel('Action', { exact: true }).fill('Microsoft.Compute/virtualMachines/read');
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect.poll(() => verdict.locator('.badge').textContent()).toBe('Allowed');
    await shot('05-check-access');
  }, 60_000);

  it('draws the access graph: identities → roles → scopes → resources', async () => {
    await page.getByRole('link', { name: 'Access graph' }).click();
    const svg = page.getByRole('img', { name: 'Access graph' });
    await svg.waitFor();
    const labels = await svg.locator('.node-label').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['keyless-admin (you)', 'Owner', 'Reader', 'web-vm']));
    expect(await svg.locator('path.edge').count()).toBeGreaterThanOrEqual(4);
    await shot('06-access-graph');
    // Hovering the VM's identity traces its path and dims the rest.
    await svg.locator('.node-identity').filter({ hasText: 'web-vm' }).hover();
    expect(await svg.locator('.node.lit').count()).toBeGreaterThanOrEqual(4);
    expect(await svg.locator('.node.dim').count()).toBeGreaterThan(0);
    await shot('06b-access-graph-hover');
  }, 60_000);

  it('shows vault secrets hidden until Reveal, storage containers, and the logs', async () => {
    const port = new URL(k.endpoints.resourceManager).port;
    const { adminToken, http } = await import('../support/keyless.js');
    const t = await adminToken(k, 'https://vault.azure.net/.default');
    await http('PUT', `https://portal-kv.vault.${k.config.dnsSuffix}:${port}/secrets/api-key?api-version=7.4`, {
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 's3cr3t-value' }),
    });
    await page.getByRole('link', { name: 'Key vaults' }).click();
    await page.getByRole('link', { name: 'portal-kv' }).click();
    await page.getByRole('tab', { name: 'Access policies' }).click();
    await page.getByRole('table', { name: 'Access policies' }).waitFor();
    await expect.poll(() => page.getByRole('table', { name: 'Access policies' }).textContent()).toContain('keyless-admin');
    await shot('07a-keyvault-access-policies');
    await page.getByRole('tab', { name: 'Secrets' }).click();
    await page.getByRole('table', { name: 'Secrets' }).getByText('api-key').waitFor();
    expect(await page.content()).not.toContain('s3cr3t-value');
    await page.getByRole('button', { name: 'Reveal api-key' }).click();
    await page.getByLabel('Value of api-key').waitFor();
    expect(await page.getByLabel('Value of api-key').textContent()).toBe('s3cr3t-value');
    await shot('07-keyvault-secrets');

    await page.getByRole('link', { name: 'Storage accounts' }).click();
    await page.getByRole('link', { name: 'portalstore' }).click();
    await page.getByRole('tab', { name: 'Containers' }).click();
    await page.getByRole('button', { name: 'reports' }).click();
    // Owner is not a data role: the Blob service's own refusal is shown in place.
    await page.locator('.alert-error').waitFor();
    await shot('08-storage-containers');

    await page.getByRole('link', { name: 'Logs' }).click();
    await page.locator('table[aria-label="Log events"], .empty-state').first().waitFor();
    await shot('09-logs');
  }, 60_000);

  it("shows ARM's own AuthorizationFailed to a principal that holds no role", async () => {
    const app = await k.createApplication('portal-browser-nobody');
    const other = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const p = await other.newPage();
      await p.goto(portalUrl(k, '/portal/sign-in'));
      await p.fill('#client_id', app.clientId);
      await p.fill('#client_secret', app.clientSecret);
      await p.click('button[type=submit]');
      await p.waitForURL(/\/portal\/$/);
      await p.goto(portalUrl(k, `/portal/#/resource?id=${encodeURIComponent(env.vm)}&tab=identity`));
      const alert = p.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('AuthorizationFailed');
      expect(await alert.textContent()).toContain(app.clientId);
      await p.screenshot({ path: path.join(ARTIFACTS, '10-authorization-failed.png'), fullPage: true });
    } finally {
      await other.close();
    }
  }, 60_000);

  it('sends an expired session back to the sign-in page with a notice', async () => {
    try {
      k.clock.shift(31 * 60_000);
      await page.getByRole('link', { name: 'Resources' }).click();
      await page.waitForURL(/\/portal\/sign-in\?expired=1$/);
      expect(await page.getByRole('status').textContent()).toContain('Your session expired');
      await shot('11-session-expired');
    } finally {
      k.clock.shift(0);
    }
  }, 60_000);
});
