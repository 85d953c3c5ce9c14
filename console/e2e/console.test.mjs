// End-to-end test of the simguard web console in headless Chromium.
//
// Run by TestConsoleInBrowser (cmd/simguard), which starts a real
// "simguard serve --demo" and passes, in the environment:
//   SIMGUARD_URL            the server's base URL
//   SIMGUARD_ADMIN_TOKEN    an admin token
//   SIMGUARD_AUDITOR_TOKEN  an auditor token
//   SIMGUARD_NODE_TOKEN     a node token (to report an enforcement event)
//   SIMGUARD_OUT            where to save screenshots
//   SIMGUARD_SIM_IMSI, SIMGUARD_SIM_IMEI          the demo SIM to find and suspend
//   SIMGUARD_SESSION_IMSI, SIMGUARD_SESSION_IMEI  a demo SIM that opens a data session
//   SIMGUARD_RADIUS_AUTH, _ACCT, _SECRET  the RADIUS server and a NAS secret;
//                           without them the denial is reported through the
//                           node events API and the live-session step is skipped
//   SIMGUARD_SCAN_TARGET    a loopback address where the test plays a device:
//   SIMGUARD_SCAN_ADMIN_PORT  HTTP basic auth with the default admin:admin,
//   SIMGUARD_SCAN_API_PORT    plain HTTP; both let in by the group's policy
//   SIMGUARD_SCAN_ICCID, SIMGUARD_SCAN_GROUP  the SIM with that static IP, its group
// It exits non-zero when a step fails or the browser logs an error.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`set ${k}`);
  return v;
};
const URL_ = env('SIMGUARD_URL');
const ADMIN = env('SIMGUARD_ADMIN_TOKEN');
const AUDITOR = env('SIMGUARD_AUDITOR_TOKEN');
const NODE = env('SIMGUARD_NODE_TOKEN');
const OUT = env('SIMGUARD_OUT');
const IMSI = env('SIMGUARD_SIM_IMSI');
const IMEI = env('SIMGUARD_SIM_IMEI');
const SESSION_IMSI = env('SIMGUARD_SESSION_IMSI');
const SESSION_IMEI = env('SIMGUARD_SESSION_IMEI');
const RADIUS = process.env.SIMGUARD_RADIUS_AUTH ? {
  auth: env('SIMGUARD_RADIUS_AUTH'), acct: env('SIMGUARD_RADIUS_ACCT'), secret: env('SIMGUARD_RADIUS_SECRET'),
} : null;
const SCAN = {
  target: env('SIMGUARD_SCAN_TARGET'), admin: env('SIMGUARD_SCAN_ADMIN_PORT'), api: env('SIMGUARD_SCAN_API_PORT'),
  iccid: env('SIMGUARD_SCAN_ICCID'), group: env('SIMGUARD_SCAN_GROUP'),
};
mkdirSync(OUT, { recursive: true });

// radclient (FreeRADIUS) plays the packet gateway. The NAS client was
// just registered and the server loads it asynchronously: retry until it
// answers.
function radclient(addr, cmd, attrs) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const r = spawnSync('radclient', ['-x', '-r', '1', '-t', '2', addr, cmd, RADIUS.secret],
      { input: attrs.join('\n') + '\n', encoding: 'utf8' });
    const out = (r.stdout || '') + (r.stderr || '');
    if (out.includes('Received ') || Date.now() > deadline) return out;
  }
}

function accessRequest(imsi, imei) {
  return [`User-Name = ${imsi}`, `3GPP-IMSI = ${imsi}`, `3GPP-IMEISV = ${imei}01`, 'Called-Station-Id = meters.iot',
    '3GPP-RAT-Type = 8', '3GPP-SGSN-MCC-MNC = 00101', 'Message-Authenticator = 0x00'];
}

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

let passed = 0;
let failed = 0;
const browserErrors = [];
const dirs = [];

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err.stack || err}`);
    throw err;
  }
}

// A browser profile of its own (fresh --user-data-dir) per role, so
// that sessions do not mix.
async function openBrowser(role) {
  const dir = mkdtempSync(join(tmpdir(), `simguard-console-${role}-`));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, viewport: LAPTOP,
  });
  ctx.on('page', watch);
  ctx.pages().forEach(watch);
  const page = ctx.pages()[0] || await ctx.newPage();
  return { ctx, page, role };
}

function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error') browserErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => browserErrors.push(`${page.url()}: uncaught ${e.message}`));
}

// tabTo presses Tab until the focused control is named name, as a
// keyboard-only user would reach it; the focus must be visible there.
async function tabTo(page, name) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return { name: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
        outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px', shadow: style.boxShadow !== 'none' };
    });
    if (focused && focused.name === name) {
      assert(focused.outline || focused.shadow, `${name}: the keyboard focus is not visible`);
      return;
    }
  }
  throw new Error(`${name}: not reachable with Tab within 80 presses`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

// Screens of both sizes: the page must not scroll sideways on a phone
// (wide tables scroll inside their own box).
async function shots(page, name) {
  await page.setViewportSize(LAPTOP);
  await shot(page, `${name}-laptop`);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(200); // the charts redraw for the new width
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `${name}: the page is ${overflow}px wider than a phone screen`);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(LAPTOP);
}

async function login(b, token) {
  const { page } = b;
  const resp = await page.goto(URL_ + '/');
  assert(resp.ok(), `GET / answered ${resp.status()}`);
  assert(page.url().includes('/console/login'), `not sent to the login page: ${page.url()}`);
  await page.getByLabel('API token').fill(token);
  await Promise.all([page.waitForURL(/\/console\/$/), page.getByRole('button', { name: 'Log in' }).click()]);
  assert(!page.url().includes(token), 'the token is in the URL');
}

async function text(page, sel) {
  return (await page.locator(sel).first().textContent()).trim();
}

async function api(method, path, token, body) {
  const r = await fetch(URL_ + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: r.status === 200 ? await r.json() : null };
}

let iccid;
let admin;
let auditor;

try {
  admin = await openBrowser('admin');
  const page = admin.page;

  await step('log in with a token; the session cookie is HttpOnly and SameSite=Strict', async () => {
    await page.goto(URL_ + '/console/login');
    await shots(page, 'login');
    await login(admin, ADMIN);
    const cookies = await admin.ctx.cookies(URL_ + '/console/');
    const c = cookies.find((x) => x.name === 'simguard_session');
    assert(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/console/', `session cookie ${JSON.stringify(c)}`);
    assert(!c.value.includes(ADMIN), 'the cookie holds the token');
  });

  await step('overview: charts drawn, keyboard users get a skip link', async () => {
    assert((await text(page, 'h1')) === 'Fleet overview', 'no overview heading');
    assert((await text(page, '#sims-total')) === '1000', 'the demo fleet is not counted');
    await page.locator('#chart-states svg rect').nth(3).waitFor();
    await page.locator('#chart-decisions svg line').first().waitFor({ state: 'attached' });
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.textContent);
    assert(focused === 'Skip to content', `first Tab focuses ${focused}`);
    await page.keyboard.press('Enter');
    assert(page.url().endsWith('#main'), 'the skip link does not lead to the content');
    await shots(page, 'overview');
  });

  await step('find a SIM by its IMSI', async () => {
    await page.getByRole('link', { name: 'SIMs', exact: true }).click();
    await page.getByLabel('ICCID, IMSI, MSISDN or IMEI').fill(IMSI);
    await Promise.all([page.waitForURL(/\/console\/sims\?q=/), page.getByRole('button', { name: 'Search' }).click()]);
    const rows = page.locator('#sim-results tbody tr');
    assert((await rows.count()) === 1, `search found ${await rows.count()} SIMs`);
    await shots(page, 'sims');
    iccid = (await rows.first().locator('a').first().textContent()).trim();
    await rows.first().locator('a').first().click();
    await page.waitForURL(new RegExp(`/console/sims/${iccid}$`));
    assert((await text(page, 'h1')).includes(iccid), 'SIM page heading');
    await shots(page, 'sim');
  });

  await step('suspend it, after a confirmation, with the keyboard only', async () => {
    await tabTo(page, 'Suspend…');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Suspend SIM ${iccid}?` }).waitFor();
    await shots(page, 'confirm');
    assert((await page.locator('#main .badge').first().textContent()) === 'active', 'nothing may change before confirming');
    await tabTo(page, 'Yes, Suspend');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/console/sims/${iccid}$`));
    assert((await text(page, '[role=status]')).includes('suspended'), 'no confirmation message');
    assert((await text(page, 'h1 .badge')) === 'suspended', 'the SIM is not shown suspended');
    const r = await api('GET', `/api/v1/sims/${IMSI}`, ADMIN);
    assert(r.json.state === 'suspended', `the API says ${r.json.state}`);
  });

  await step('the audit log shows who suspended it, and the chain verifies', async () => {
    await page.getByRole('link', { name: 'Changes to this SIM (audit log)' }).click();
    const row = page.locator('#audit-records tbody tr').first();
    assert((await row.textContent()).includes('sim.suspend'), 'no sim.suspend record');
    assert((await row.textContent()).includes('bootstrap-admin'), 'the record does not name who');
    await row.locator('summary').click();
    assert((await row.locator('pre.diff').textContent()).includes('"state": "suspended"'), 'the record lacks the change');
    assert((await text(page, '#verify .badge')) === 'verified', 'the chain does not verify');
    await shots(page, 'audit');
  });

  await step('a denial appears on the open overview without reload', async () => {
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    const before = Number(await text(page, '#denied-total'));
    if (RADIUS) {
      // A real enforcement path: the packet gateway asks RADIUS.
      const res = radclient(RADIUS.auth, 'auth', accessRequest(IMSI, IMEI));
      assert(res.includes('Received Access-Reject') && res.includes('sim_suspended'), `radclient:\n${res}`);
    } else {
      // Without radclient: the way a remote enforcement node reports it.
      const sim = (await api('GET', `/api/v1/sims/${IMSI}`, ADMIN)).json;
      const r = await fetch(URL_ + '/api/v1/sync/events', {
        method: 'POST', headers: { Authorization: `Bearer ${NODE}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ events: [{
          tenant_id: sim.tenant_id, sim_id: sim.id, source: 'radius', type: 'radius.access', decision: 'deny',
          reason: 'sim_suspended', attrs: { imsi: IMSI, plmn: '001-01', rat: 'nb-iot', apn: 'meters.iot', nas: 'pgw-e2e' },
        }] }),
      });
      assert(r.status === 204, `sync/events answered ${r.status}`);
    }
    const url = page.url();
    await page.waitForFunction((n) => Number(document.getElementById('denied-total').textContent) === n + 1, before, { timeout: 30000 });
    assert(page.url() === url, 'the page was reloaded');
    await page.locator('#top-sims a', { hasText: iccid }).waitFor();
    await page.locator('#legend-decisions li', { hasText: 'sim_suspended' }).waitFor();
    await shots(page, 'overview-denial');
  });

  await step('a data session opened through RADIUS shows as live', async () => {
    if (!RADIUS) {
      console.log('     (skipped: no RADIUS server, so no session source is wired and the panel is hidden)');
      assert((await page.locator('#panel-sessions').count()) === 0, 'a session panel without a session source');
      return;
    }
    await page.locator('#panel-sessions').waitFor();
    const res = radclient(RADIUS.auth, 'auth', accessRequest(SESSION_IMSI, SESSION_IMEI));
    assert(res.includes('Received Access-Accept'), `radclient auth:\n${res}`);
    const acct = radclient(RADIUS.acct, 'acct', ['Acct-Status-Type = Start', 'Acct-Session-Id = console-e2e-1',
      ...accessRequest(SESSION_IMSI, SESSION_IMEI).slice(0, -1), 'Framed-IP-Address = 10.64.9.9']);
    assert(acct.includes('Received Accounting-Response'), `radclient acct:\n${acct}`);
    await page.locator('#table-sessions td', { hasText: '10.64.9.9' }).waitFor({ timeout: 30000 });
    assert(Number(await text(page, '#sessions-live')) >= 1, 'no live session counted');
    await shots(page, 'overview-session');
    await page.locator('#table-sessions a', { hasText: SESSION_IMSI }).click();
    await page.locator('#panel-sim-sessions td', { hasText: '10.64.9.9' }).waitFor();
    await shots(page, 'sim-session');
  });

  let alertURL;
  await step('detection raises an alert; it is acknowledged and resolved, with the events behind it', async () => {
    if (!RADIUS) {
      console.log('     (skipped: detection sees the events enforcement points emit; without RADIUS there are none)');
      return;
    }
    await page.goto(URL_ + '/console/');
    const before = Number(await text(page, '#alerts-total'));
    const roaming = accessRequest(SESSION_IMSI, SESSION_IMEI).map((a) => a.startsWith('3GPP-SGSN-MCC-MNC') ? '3GPP-SGSN-MCC-MNC = 310260' : a);
    const res = radclient(RADIUS.auth, 'auth', roaming);
    assert(res.includes('Received Access-Reject') && res.includes('location_denied'), `radclient:\n${res}`);
    await page.waitForFunction((n) => Number(document.getElementById('alerts-total').textContent) > n, before, { timeout: 30000 });
    await shots(page, 'overview-alert');
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const link = page.locator('#alert-list a', { hasText: 'roaming-outside-allowed' }).first();
    await link.waitFor();
    await shots(page, 'alerts');
    await link.click();
    await page.waitForURL(/\/console\/alerts\/\d+$/);
    alertURL = page.url();
    const events = await page.locator('#alert-events-h + .table-wrap').textContent();
    assert(events.includes('location_denied') && events.includes('310-260'), `the alert's events: ${events}`);
    await shots(page, 'alert');
    await page.getByLabel('Acknowledgement note (optional)').fill('looking into it');
    await Promise.all([page.waitForURL(alertURL), page.getByRole('button', { name: 'Acknowledge' }).click()]);
    assert((await text(page, '#alert-state')) === 'acknowledged', 'not acknowledged');
    await page.getByLabel('Resolution note (optional)').fill('customer confirmed the trip');
    await Promise.all([page.waitForURL(alertURL), page.getByRole('button', { name: 'Resolve' }).click()]);
    assert((await text(page, '#alert-state')) === 'resolved', 'not resolved');
    assert((await page.locator('#main').textContent()).includes('customer confirmed the trip'), 'the note is not shown');
    await page.goto(URL_ + '/console/audit?action=alert.resolve');
    assert((await page.locator('#audit-records tbody tr').count()) >= 1, 'resolving is not in the audit log');
  });

  await step('the events page and the SIM page show the denial', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByLabel('SIM', { exact: true }).fill(iccid);
    await Promise.all([page.waitForURL(/\/console\/events\?.*sim=/), page.getByRole('button', { name: 'Filter' }).click()]);
    const first = page.locator('table tbody tr').first();
    assert((await first.textContent()).includes('sim_suspended'), 'the events page lacks the denial');
    await shots(page, 'events');
    await page.goto(`${URL_}/console/sims/${iccid}`);
    assert((await page.locator('#location-h + dl').textContent()).includes('001-01'), 'the SIM page lacks the last location');
    await shots(page, 'sim-after-denial');
  });

  await step('group editor: the error is shown next to the policy, then a diff before saving', async () => {
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('link', { name: 'smart-meters' }).first().waitFor();
    await shots(page, 'groups');
    await page.getByRole('link', { name: 'smart-meters' }).first().click();
    const editor = page.getByLabel('Policy (YAML)');
    const yaml = await editor.inputValue();
    await editor.fill(yaml.replace('- 001-02', '- 001-0x'));
    await page.getByRole('button', { name: 'Preview changes' }).click();
    const err = await text(page, '#g-policy-error');
    assert(err.includes('location.plmns[1]') && err.startsWith('Line 9'), `policy error: ${err}`);
    assert((await editor.getAttribute('aria-invalid')) === 'true', 'the editor is not marked invalid');
    await shots(page, 'group-error');
    await editor.fill(yaml.replace('- 001-02', '- 001-03'));
    await page.getByLabel('Description').fill('Electricity meters (e2e)');
    await page.getByRole('button', { name: 'Preview changes' }).click();
    await page.locator('pre.diff .add').first().waitFor();
    assert((await page.locator('pre.diff .add').allTextContents()).some((l) => l.includes('001-03')), 'the diff lacks the change');
    await shots(page, 'group-diff');
    await page.getByRole('button', { name: 'Save these changes' }).click();
    assert((await text(page, '[role=status]')).includes('saved (version 2)'), 'not saved');
  });

  await step('would this be allowed? explains the decision', async () => {
    await page.getByRole('link', { name: 'Check', exact: true }).click();
    await page.getByLabel('IMSI', { exact: true }).fill(IMSI);
    await page.getByLabel('APN', { exact: true }).fill('meters.iot');
    await page.getByRole('button', { name: 'Check' }).click();
    assert((await text(page, '#result-h')).includes('sim_suspended'), 'the check does not explain the suspension');
    await shots(page, 'check');
  });

  await step('bulk import shows every bad row', async () => {
    await page.goto(`${URL_}/console/sims`);
    await page.locator('#import summary').click();
    const csv = join(dirs[0], 'import.csv');
    writeFileSync(csv, 'iccid,imsi,group\n8988001000000099995,001010000099999,smart-meters\n12345,001010000099998,smart-meters\n');
    await page.getByLabel('CSV file').setInputFiles(csv);
    // The server answers 400 with the rows: expected here, not a failure.
    await Promise.all([page.waitForURL(/\/console\/sims\/import$/), page.getByRole('button', { name: 'Import' }).click()]);
    const rows = await page.locator('#import-errors tbody tr').allTextContents();
    assert(rows.length >= 1 && rows.some((r) => r.includes('3') && r.includes('iccid')), `import errors: ${rows}`);
    await shots(page, 'import-errors');
  });

  let scanURL;
  let findingURL;
  await step('exposure: a scan started from the console finds the device, its default login and plaintext', async () => {
    await page.getByRole('link', { name: 'Exposure', exact: true }).click();
    await page.waitForURL(/\/console\/exposure$/);
    assert((await page.locator('#no-scans').count()) === 1, 'scans before the first one');
    await page.getByRole('link', { name: /start a scan/ }).click();
    await page.waitForURL(/\/console\/scans$/);
    await page.getByLabel('Targets').fill(SCAN.target);
    await page.getByLabel('TCP ports').fill(`${SCAN.admin},${SCAN.api}`);
    await page.getByLabel('Try vendor default logins (Telnet, SSH, HTTP basic auth)').check();
    assert((await text(page, '#scan-credentials-warning')).includes('This logs in to the devices'), 'no warning next to the credential audit');
    await shots(page, 'scan-form');
    await Promise.all([page.waitForURL(/\/console\/scans\/\d+$/), page.getByRole('button', { name: 'Start scan' }).click()]);
    scanURL = page.url();
    assert((await text(page, '[role=status]')).includes('queued'), 'no confirmation that the scan was queued');
    // The page follows the scan and reloads when it has finished.
    await page.locator('#scan-status', { hasText: 'done' }).waitFor({ timeout: 90000 });
    const findings = await page.locator('#findings table').textContent();
    assert(findings.includes('http: admin') && findings.includes('plaintext'), `the scan's findings: ${findings}`);
    assert(!findings.includes('admin:admin'), 'a password is shown');
    await shots(page, 'scan');
    const csv = await admin.ctx.request.get(scanURL + '/report.csv');
    assert(csv.ok() && (await csv.text()).startsWith('tenant_id,scan_id,finding_id'), `CSV report: ${csv.status()}`);
    const json = await admin.ctx.request.get(scanURL + '/report.json');
    assert(json.ok() && (await json.json()).findings.length === 2, `JSON report: ${json.status()}`);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exposure' }).click();
    const rows = page.locator('#findings tbody tr');
    assert((await rows.count()) === 2, `the exposure page lists ${await rows.count()} findings`);
    const first = await rows.first().textContent();
    assert(first.includes('critical') && first.includes(SCAN.iccid) && first.includes(`tcp/${SCAN.admin}`) && first.includes(SCAN.group),
      `the worst finding: ${first}`);
    assert((await text(page, '#exposure-open')) === '2', 'open findings are not counted');
    await shots(page, 'exposure');
    await page.getByLabel('Issue').selectOption('plaintext_protocol');
    await Promise.all([page.waitForURL(/kind=plaintext_protocol/), page.getByRole('button', { name: 'Filter' }).click()]);
    assert((await rows.count()) === 1 && (await rows.first().textContent()).includes(`tcp/${SCAN.api}`), 'the issue filter');
    await page.goto(`${URL_}/console/sims/${SCAN.iccid}`);
    assert((await page.locator('#panel-sim-findings tbody tr').count()) === 2, "the SIM page lacks the SIM's findings");
  });

  await step("exposure: closing a port shows the group's diff first, then changes its inbound policy, audited", async () => {
    await page.goto(`${URL_}/console/exposure`);
    await page.getByRole('button', { name: `Close port tcp/${SCAN.admin} of ${SCAN.target}…` }).click();
    await page.getByRole('heading', { name: `Close tcp/${SCAN.admin} on ${SCAN.target}?` }).waitFor();
    const del = await page.locator('#remediation-diff .del').allTextContents();
    assert(del.length === 1 && del[0].includes(`"${SCAN.admin}"`), `the diff removes ${del}`);
    assert(!(await text(page, '#inbound-after')).includes(SCAN.admin) && (await text(page, '#inbound-now')).includes(SCAN.admin), 'rules before/after');
    let group = (await api('GET', `/api/v1/groups/${SCAN.group}`, ADMIN)).json;
    assert(group.policy.inbound[0].ports.includes(SCAN.admin), 'the policy changed before confirming');
    await shots(page, 'remediate-confirm');
    await Promise.all([page.waitForURL(/\/console\/findings\/\d+$/), page.getByRole('button', { name: 'Yes, close the port' }).click()]);
    findingURL = page.url();
    assert((await text(page, '[role=status]')).includes(`tcp/${SCAN.admin} closed in group ${SCAN.group}`), 'no confirmation of the change');
    assert((await page.locator('#closed-in-policy').count()) === 1, 'the finding does not say its port is closed in policy');
    assert((await page.getByRole('button', { name: 'Close this port…' }).count()) === 0, 'the port can be closed again');
    await shots(page, 'finding');
    group = (await api('GET', `/api/v1/groups/${SCAN.group}`, ADMIN)).json;
    assert(!group.policy.inbound[0].ports.includes(SCAN.admin) && group.policy.inbound[0].ports.includes(SCAN.api),
      `inbound after: ${JSON.stringify(group.policy.inbound)}`);
    await page.goto(`${URL_}/console/groups/${SCAN.group}`);
    const yaml = await page.locator('pre.yaml').textContent();
    assert(!yaml.includes(`"${SCAN.admin}"`) && yaml.includes(`"${SCAN.api}"`), `the group page: ${yaml}`);
    await page.goto(`${URL_}/console/audit?action=group.remediate`);
    const rec = await page.locator('#audit-records tbody tr').first().textContent();
    assert(rec.includes('group.remediate') && rec.includes('bootstrap-admin') && rec.includes(SCAN.group), `audit: ${rec}`);
  });

  await step('overview: an exposure card of open findings by severity', async () => {
    await page.goto(URL_ + '/console/');
    await page.locator('#panel-exposure').waitFor();
    assert((await text(page, '#exposure-total')) === '2', 'the card does not count the open findings');
    await page.locator('#chart-exposure svg rect').first().waitFor({ state: 'attached' });
    await shots(page, 'overview-exposure');
  });

  auditor = await openBrowser('auditor');
  const ap = auditor.page;

  await step('an auditor reads everything and sees no control that changes anything', async () => {
    await login(auditor, AUDITOR);
    const paths = ['/console/', '/console/sims', `/console/sims/${iccid}`, '/console/groups', '/console/groups/smart-meters',
      '/console/events', '/console/audit', '/console/check', '/console/alerts?state=any'];
    if (alertURL) paths.push(alertURL.slice(URL_.length));
    paths.push('/console/exposure?state=any', '/console/scans', scanURL.slice(URL_.length), findingURL.slice(URL_.length));
    for (const path of paths) {
      const resp = await ap.goto(URL_ + path);
      assert(resp.ok(), `${path}: ${resp.status()}`);
      const forms = await ap.locator('form[method="post"]:not([action="/console/logout"])').count();
      assert(forms === 0, `${path}: ${forms} forms that change things`);
      const buttons = await ap.locator('button').allTextContents();
      const changing = buttons.filter((b) => !['Log out', 'Search', 'Filter', 'Check'].includes(b.trim()));
      assert(changing.length === 0, `${path}: buttons ${changing}`);
    }
    await ap.goto(`${URL_}/console/sims/${iccid}`);
    await shots(ap, 'sim-auditor');
  });

  await step('forged changes by an auditor are refused', async () => {
    const csrf = await ap.locator('meta[name="csrf-token"]').getAttribute('content');
    const forged = [
      [`/console/sims/${iccid}/activate`, { csrf, version: '2', confirm: 'yes' }],
      [`/console/sims/${iccid}/unbind-imei`, { csrf, version: '2', confirm: 'yes', mode: 'off' }],
      ['/console/groups/apply', { csrf, name: 'smart-meters', policy: 'services: [data]\n', version: '2' }],
      [`/console/sims/${iccid}/activate`, { version: '2', confirm: 'yes' }], // and without the CSRF token
    ];
    if (alertURL) forged.push([alertURL.slice(URL_.length) + '/acknowledge', { csrf, note: 'x' }]);
    const finding = findingURL.slice(URL_.length);
    forged.push([`${finding}/remediate`, { csrf }], [`${finding}/remediate`, { csrf, confirm: 'yes', version: '3' }],
      ['/console/scans', { csrf, targets: SCAN.target, ports: SCAN.api, credentials: '1' }]);
    for (const [path, form] of forged) {
      const r = await auditor.ctx.request.post(URL_ + path, { form, headers: { Origin: URL_ }, maxRedirects: 0 });
      assert(r.status() === 403, `auditor POST ${path}: ${r.status()}`);
    }
    const sim = (await api('GET', `/api/v1/sims/${IMSI}`, ADMIN)).json;
    assert(sim.state === 'suspended' && sim.imei_lock.mode === 'explicit', `the SIM changed: ${JSON.stringify(sim)}`);
    const scans = (await api('GET', '/api/v1/scans', ADMIN)).json;
    assert(scans.items.length === 1, `scans: ${scans.items.length}`);
    const remediations = (await api('GET', '/api/v1/audit?action=group.remediate', ADMIN)).json;
    assert(remediations.items.length === 1, `remediations: ${remediations.items.length}`);
  });

  await step('logging out ends the session', async () => {
    await ap.getByRole('button', { name: 'Log out' }).click();
    await ap.waitForURL(/\/console\/login\?out=1$/);
    await ap.goto(URL_ + '/console/sims');
    assert(ap.url().includes('/console/login'), 'still logged in after logout');
  });

  await step('the browser logged no errors', async () => {
    assert(browserErrors.length === 0, `browser errors:\n${browserErrors.join('\n')}`);
  });
} catch (err) {
  // The failing step has been reported; finish with the summary.
} finally {
  for (const b of [admin, auditor]) {
    if (b) await b.ctx.close().catch(() => {});
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
if (browserErrors.length > 0 && failed === 0) {
  failed++;
  console.log(`FAIL browser errors:\n${browserErrors.join('\n')}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
