// leakguard's LuCI app in a real browser: headless Debian Chromium driven by playwright-core,
// against tests/luci/server.mjs (the router's side), whose /ubus runs the app's rpcd plugin
// against a real daemon in network namespaces. Started by tests/luci.rs (`browser`), which
// sets up the namespaces and the daemon and passes them in the environment:
//
//   LG_NODE_MODULES  where playwright-core is installed     LG_SHOTS  screenshot directory
//   LG_LAN_NS, LG_ROUTER_NS, LG_TABLE, LG_LEAK_URL, LG_LEAK_BODY, LG_IMEI, LG_IMEI_MASKED, LG_WAN_IP
//   LEAKGUARD_CONFIG, PATH (finds the leakguard under test), LG_SCRATCH (logs), LG_DAEMON_PID
//   (killed at the end, to see the page report it)
//
// Exits 0 when every step passed; prints `step: …` lines as it goes and the reason when not.

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(process.env.LG_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

const env = process.env;
const SHOTS = env.LG_SHOTS;
const SCRATCH = env.LG_SCRATCH;
const CONFIG = env.LEAKGUARD_CONFIG;
const ADMIN_SID = '0123456789abcdef0123456789abcdef';
const VIEWER_SID = 'fedcba9876543210fedcba9876543210';

function step(text) {
	console.log(`step: ${text}`);
}

function fail(text) {
	throw new Error(text);
}

function sh(args, timeout = 15000) {
	const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout });
	return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function nftTable() {
	return sh([ 'ip', 'netns', 'exec', env.LG_ROUTER_NS, 'nft', 'list', 'table', 'inet', env.LG_TABLE ]).out;
}

function daemonStatus() {
	const r = sh([ 'leakguard', 'status', '--json', '--config', CONFIG ]);
	if (r.code != 0) fail(`leakguard status: ${r.err}`);
	return JSON.parse(r.out);
}

async function until(what, fn, timeout = 20000) {
	const end = Date.now() + timeout;
	let last;
	while (Date.now() < end) {
		last = await fn();
		if (last) return last;
		await new Promise(r => setTimeout(r, 200));
	}
	fail(`timed out waiting for ${what}`);
}

function startServer() {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [ path.join(here, 'server.mjs') ], {
			env: { ...env, PORT: '0', LG_LOG: path.join(SCRATCH, 'server.jsonl') },
			stdio: [ 'ignore', 'pipe', 'inherit' ],
		});
		child.stdout.on('data', d => {
			const m = d.toString().match(/listening (\d+)/);
			if (m) resolve({ child, port: Number(m[1]) });
		});
		child.on('exit', code => reject(new Error(`server exited (${code})`)));
	});
}

function serverLog() {
	return fs.readFileSync(path.join(SCRATCH, 'server.jsonl'), 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
}

async function shot(page, name) {
	const file = path.join(SHOTS, name);
	await page.screenshot({ path: file, fullPage: true });
	step(`screenshot ${file}`);
}

async function newPage(browser, base, sid, errors) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	await context.addCookies([ { name: 'sysauth_http', value: sid, url: base } ]);
	const page = await context.newPage();
	page.on('pageerror', e => errors.push(`page error: ${e.message}`));
	// A 404 is reported by URL below (a favicon's is harmless); other console errors count.
	page.on('console', m => { if (m.type() == 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`); });
	page.on('response', r => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`HTTP ${r.status()} for ${r.url()}`); });
	return { context, page };
}

async function main() {
	const { child: server, port } = await startServer();
	const base = `http://127.0.0.1:${port}`;
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [ '--no-sandbox' ] });
	const errors = [];

	try {
		// 1. The status page renders as LuCI renders it.
		const { page } = await newPage(browser, base, ADMIN_SID, errors);
		await page.goto(`${base}/cgi-bin/luci/admin/services/leakguard`);
		await page.waitForSelector('#leakguard-state', { timeout: 20000 });
		const state = await page.textContent('#leakguard-state');
		if (!/Running since/.test(state)) fail(`state: ${state}`);
		if ((await page.textContent('#leakguard-mode')).indexOf('Enforce') < 0) fail('mode is not enforce');
		await page.waitForSelector('ul.tabs li.active a');
		const tabs = await page.$$eval('ul.tabs li a', as => as.map(a => a.textContent));
		if (tabs.join(',') != 'Status,Devices,Settings') fail(`tabs: ${tabs}`);
		const topmenu = await page.$$eval('#topmenu > li > a', as => as.map(a => a.textContent));
		if (!topmenu.includes('Services')) fail(`top menu: ${topmenu}`);
		const offload = await page.textContent('#leakguard-offload');
		if (offload != daemonStatus().offload) fail(`flow offloading shown as ${offload}`);
		step(`status page rendered (tabs ${tabs}, menu ${topmenu}, flow offloading: ${offload})`);

		const startup = serverLog();
		const rpcs = startup.filter(e => e.rpc).map(e => `${e.rpc.object}.${e.rpc.method}`);
		for (const want of [ 'luci.getFeatures', 'file.list', 'uci.get', 'uci.changes', 'luci.leakguard.status' ])
			if (!rpcs.includes(want)) fail(`start-up did not call ${want}: ${rpcs}`);
		const gets = startup.filter(e => e.http == 'GET').map(e => e.path);
		for (const want of [ '/cgi-bin/luci/admin/translations/en', '/luci-static/resources/cbi.js', '/luci-static/resources/luci.js',
			'/luci-static/resources/rpc.js', '/luci-static/resources/ui.js', '/luci-static/resources/form.js',
			'/cgi-bin/luci/admin/menu', '/luci-static/resources/view/leakguard/status.js', '/luci-static/resources/view/leakguard/common.js' ])
			if (!gets.includes(want)) fail(`start-up did not GET ${want}`);
		const batched = startup.filter(e => e.batch > 1);
		if (!batched.length) fail('no batched /ubus request');
		step(`start-up requests as LuCI makes them (${rpcs.length} ubus calls, ${batched.length} batched POSTs)`);

		// The /ubus endpoint's answers, as uhttpd's: parse error, unknown object, ACL (nothing the
		// app's ACL does not name is reachable, even for root), a batch answered in order.
		const ubus = async (body, raw) => (await fetch(`${base}/ubus/?${Date.now()}`, {
			method: 'POST', headers: { 'Content-Type': 'application/json' }, body: raw ? body : JSON.stringify(body) })).json();
		const call = (sid, object, method, args) => ({ jsonrpc: '2.0', id: 7, method: 'call', params: [ sid, object, method, args ?? {} ] });
		const codes = [
			[ (await ubus('{nope', true)).error?.code, -32700 ],
			[ (await ubus(call(ADMIN_SID, 'nonexistent', 'status'))).error?.code, -32000 ],
			[ (await ubus(call(ADMIN_SID, 'luci.leakguard', 'shell'))).error?.code, -32002 ],
			[ (await ubus(call(ADMIN_SID, 'file', 'exec', { command: '/bin/sh' }))).error?.code, -32002 ],
			[ (await ubus(call('00000000000000000000000000000000', 'luci.leakguard', 'status'))).error?.code, -32002 ],
			[ (await ubus(call(VIEWER_SID, 'luci.leakguard', 'set_config', { text: '' }))).error?.code, -32002 ],
		];
		for (const [ got, want ] of codes)
			if (got !== want) fail(`/ubus answered ${got}, expected ${want}: ${JSON.stringify(codes)}`);
		const batch = await ubus([ call(VIEWER_SID, 'luci.leakguard', 'status'), call(VIEWER_SID, 'luci.leakguard', 'unblock', { id: 'all' }) ]);
		if (!Array.isArray(batch) || batch[0].result?.[0] !== 0 || batch[0].result[1].running !== true || batch[1].error?.code !== -32002)
			fail(`batch: ${JSON.stringify(batch).slice(0, 300)}`);
		step('/ubus: -32700, -32000, -32002 as uhttpd answers; a batch answered in order');
		await shot(page, 'luci-status.png');

		// 2. A leak from the LAN namespace: its alert row, masked; its block.
		const leak = sh([ 'ip', 'netns', 'exec', env.LG_LAN_NS, 'curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}',
			'-H', 'Content-Type: application/json', '--data-binary', env.LG_LEAK_BODY, env.LG_LEAK_URL ]);
		if (leak.out.trim() == '200') fail('the leaking POST went through');
		const row = await until('the alert row', async () =>
			(await page.$$eval('#leakguard-alerts tr.tr:not(.table-titles)', trs => trs.map(tr => tr.textContent)))
				.find(t => t.includes(env.LG_IMEI_MASKED)));
		if (!/imei/.test(row) || !/blocked/.test(row)) fail(`alert row: ${row}`);
		const html = await page.content();
		if (html.includes(env.LG_IMEI)) fail('the clear IMEI is on the page');
		step(`alert row: ${row.replace(/\s+/g, ' ')}`);
		await page.waitForSelector('#leakguard-blocks button[data-block]');
		if (!nftTable().includes(env.LG_WAN_IP)) fail('no block in nftables');
		await shot(page, 'luci-status-alert.png');

		// 3. Unblock: the row goes, and the block is gone from nftables.
		await page.click('#leakguard-blocks button[data-block]');
		await page.waitForSelector('#leakguard-blocks tr.placeholder', { timeout: 15000 });
		const table = nftTable();
		if (table.includes(env.LG_WAN_IP)) fail(`block still in nftables:\n${table}`);
		if (daemonStatus().blocks.length) fail('the daemon still lists a block');
		step('unblocked: nftables and the daemon have no block');
		await shot(page, 'luci-status-unblocked.png');

		// 3b. Devices: the leaking device's row with its totals and its chart; expanded, the
		// destination with the masked IMEI; Allow lets the same leak through (a per-device rule,
		// written and reloaded), Block takes it back (the leak is blocked again).
		const leakOnce = () => sh([ 'ip', 'netns', 'exec', env.LG_LAN_NS, 'curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}',
			'-H', 'Content-Type: application/json', '--data-binary', env.LG_LEAK_BODY, env.LG_LEAK_URL ]).out.trim();
		await page.click('ul.tabs a:text("Devices")');
		const devRow = await page.waitForSelector('#leakguard-devices tr.leakguard-device-row', { timeout: 20000 });
		const devText = (await devRow.textContent()).replace(/\s+/g, ' ');
		const deviceId = await devRow.getAttribute('data-device');
		const bars = await page.$$eval(`#leakguard-chart-${deviceId} rect.leakguard-bar`, rs => rs.map(r => Number(r.getAttribute('data-leaks'))));
		if (bars.length != 30 || bars[bars.length - 1] != 1 || bars.reduce((a, b) => a + b, 0) != 1)
			fail(`chart bars (30 days, today's leak last): ${bars}`);
		await page.click(`tr[data-device="${deviceId}"] button.leakguard-expand`);
		const target = page.locator(`#leakguard-dests-${deviceId} .leakguard-target[data-dst="${env.LG_WAN_IP}"][data-kind="imei"]`);
		await target.waitFor({ state: 'visible', timeout: 10000 });
		const destText = (await page.textContent(`#leakguard-dests-${deviceId}`)).replace(/\s+/g, ' ');
		if (!destText.includes(env.LG_IMEI_MASKED) || !/blocked/.test(destText)) fail(`destinations: ${destText}`);
		if ((await page.content()).includes(env.LG_IMEI)) fail('the clear IMEI is on the Devices page');
		step(`devices: ${devText.trim()} | ${destText.trim()}`);
		await shot(page, 'luci-devices.png');

		await target.locator('button.leakguard-allow-btn').click();
		const done = await (await page.waitForSelector('#leakguard-devices-done', { timeout: 15000 })
			.catch(async e => fail(`${e.message}: ${await page.textContent('#leakguard-devices-result')}`))).textContent();
		if (!/allowed imei from .*\*\*:\*\*:\*\*.* to 198\.51\.100\.2/.test(done)) fail(`allow: ${done}`);
		const ruleText = fs.readFileSync(CONFIG, 'utf8');
		if (!/\[\[allow\]\]\s*device = "([0-9a-f]{2}:){5}[0-9a-f]{2}"\s*dst = "198\.51\.100\.2"\s*kinds = \["imei"\]/.test(ruleText))
			fail(`no per-device rule written:\n${ruleText}`);
		if (!ruleText.startsWith('# written by tests/netns.rs')) fail('allow lost the config\'s comment');
		const passed = leakOnce();
		if (passed != '200') fail(`the allowed leak did not pass: ${passed}`);
		step(`allowed from the Devices tab: ${done.trim()}; the same POST now passes`);

		await page.locator(`#leakguard-dests-${deviceId} .leakguard-target[data-dst="${env.LG_WAN_IP}"] button.leakguard-block-btn`).click();
		await until('the block reply', async () => /no longer allowed/.test(await page.textContent('#leakguard-devices-result')));
		if (/\[\[allow\]\]/.test(fs.readFileSync(CONFIG, 'utf8'))) fail('block left the rule');
		const afterBlock = leakOnce();
		if (afterBlock == "200") fail("the leak passed after Block");
		// The allowed POST was no finding; the blocked one is: the row counts 2.
		const count = await until('the count of 2', async () => {
			const c = await page.$eval(`#leakguard-dests-${deviceId} tr.leakguard-dest td[data-title="Count"]`, td => td.textContent);
			return c == '2' ? page.textContent(`#leakguard-dests-${deviceId}`) : null;
		});
		step(`blocked again from the Devices tab (POST answered ${afterBlock}); row ${count.replace(/\s+/g, ' ').trim()}`);
		await shot(page, 'luci-devices-blocked.png');
		sh([ 'leakguard', 'unblock', 'all', '--config', CONFIG ]);

		// 4. Settings: switch to monitor mode, save; the daemon reloads into it.
		await page.click('ul.tabs a:text("Settings")');
		await page.waitForSelector('#leakguard-settings select[name="mode"]', { timeout: 20000 });
		await page.selectOption('#leakguard-settings select[name="mode"]', 'monitor');
		await page.fill('#leakguard-settings input[name="block_timeout"]', '900');
		await page.click('button:text("Add device")');
		const dev = page.locator('tr.leakguard-device').last();
		await dev.locator('input[name="name"]').fill('Nokia 7 Plus');
		await dev.locator('input[name="mac"]').fill('A4:50:46:12:34:56');
		await dev.locator('input[name="imei"]').fill(env.LG_IMEI);
		await page.click('button:text("Add rule")');
		const rule = page.locator('tr.leakguard-allow').last();
		await rule.locator('input[name="dst"]').fill('*.example-mdm.com');
		await rule.locator('input[name="kinds"]').fill('imei');
		await page.click('.cbi-page-actions .cbi-button-save');
		const saved = await (await page.waitForSelector('#leakguard-saved', { timeout: 15000 })).textContent();
		if (!/monitor mode/.test(saved)) fail(`saved: ${saved}`);
		const st = daemonStatus();
		if (st.mode != 'monitor') fail(`daemon mode after save: ${st.mode}`);
		const text = fs.readFileSync(CONFIG, 'utf8');
		if (!/^mode = "monitor"/m.test(text) || !/block_timeout = 900/.test(text)) fail(`config after save:\n${text}`);
		if (!text.startsWith('# written by tests/netns.rs')) fail('the config lost its comment');
		if (!/\[\[device\]\]\s*name = "Nokia 7 Plus"\s*mac = \["A4:50:46:12:34:56"\]/.test(text) || !/\[\[allow\]\]\s*dst = "\*\.example-mdm\.com"\s*kinds = \["imei"\]/.test(text))
			fail(`device or allow rule not written:\n${text}`);
		await page.waitForSelector('#leakguard-monitor-banner');
		step(`settings saved: ${saved.trim()}`);
		await shot(page, 'luci-settings-saved.png');

		// 5. A bad config: the error with its line, nothing written.
		const before = fs.readFileSync(CONFIG);
		const bad = before.toString() + '\n[[device]]\nname = "bad phone"\nimei = ["12345"]\n';
		const badLine = bad.split('\n').length - 1;
		await page.fill('#leakguard-config-text', bad);
		await page.click('#leakguard-save-file');
		const error = await (await page.waitForSelector('#leakguard-error', { timeout: 15000 })).textContent();
		if (!error.includes(`Line ${badLine},`)) fail(`error does not name line ${badLine}: ${error}`);
		if (!fs.readFileSync(CONFIG).equals(before)) fail('the bad config was written');
		if (daemonStatus().mode != 'monitor') fail('the daemon changed mode');
		step(`bad config refused: ${error.replace(/\s+/g, ' ').trim()}`);
		await shot(page, 'luci-settings-error.png');

		// 6. Back on the status tab: the monitor banner, and its one control back to enforce.
		await page.click('ul.tabs a:text("Status")');
		await page.waitForSelector('#leakguard-monitor-banner button', { timeout: 20000 });
		await shot(page, 'luci-status-monitor.png');
		await page.click('#leakguard-monitor-banner button');
		await until('enforce mode', async () => (await page.textContent('#leakguard-mode')).includes('Enforce'));
		if (daemonStatus().mode != 'enforce') fail('the daemon did not switch to enforce');
		step('switched back to enforce from the banner');

		// 7. A read-only login: status readable; unblock and the config refused by the ACL.
		const viewer = await newPage(browser, base, VIEWER_SID, []);
		await viewer.page.goto(`${base}/cgi-bin/luci/admin/services/leakguard/status`);
		await viewer.page.waitForSelector('#leakguard-state', { timeout: 20000 });
		if (await viewer.page.$('#leakguard-mode-switch')) fail('read-only login sees the mode switch');
		const denied = await viewer.page.evaluate(() => L.require('view.leakguard.common').then(c =>
			c.callUnblock('all').then(r => 'resolved ' + JSON.stringify(r), e => String(e.message))));
		if (!/Access denied/.test(denied)) fail(`viewer unblock: ${denied}`);
		const log = serverLog().filter(e => e.rpc && e.rpc.user == 'viewer');
		const refused = log.filter(e => !e.rpc.allowed).map(e => e.rpc.method);
		const allowed = log.filter(e => e.rpc.allowed && e.rpc.object == 'luci.leakguard').map(e => e.rpc.method);
		if (!refused.includes('unblock') || !allowed.includes('status')) fail(`viewer ACL: allowed ${allowed}, refused ${refused}`);
		await viewer.page.goto(`${base}/cgi-bin/luci/admin/services/leakguard/devices`);
		await viewer.page.waitForSelector('#leakguard-devices tr.leakguard-device-row', { timeout: 20000 });
		if (await viewer.page.$('.leakguard-allow-btn, .leakguard-block-btn')) fail('read-only login sees Allow / Block');
		const viewerAllow = await viewer.page.evaluate(() => L.require('view.leakguard.common').then(c =>
			c.callAllow('0', 'x', '', 'imei', 'a.example').then(r => 'resolved ' + JSON.stringify(r), e => String(e.message))));
		if (!/Access denied/.test(viewerAllow)) fail(`viewer allow: ${viewerAllow}`);
		await viewer.page.goto(`${base}/cgi-bin/luci/admin/services/leakguard/settings`);
		await viewer.page.waitForSelector('#leakguard-denied', { timeout: 20000 });
		if (!serverLog().some(e => e.rpc && e.rpc.user == 'viewer' && e.rpc.method == 'get_config' && !e.rpc.allowed))
			fail('viewer get_config was not refused');
		step(`read-only login: allowed ${[ ...new Set(allowed) ]}, refused ${[ ...new Set(refused) ]}`);
		await shot(viewer.page, 'luci-viewer-settings.png');
		await viewer.context.close();

		// 8. Translations: the page in a language whose .po the server serves.
		if (env.LG_LANG) {
			const tr = await newPage(browser, base, ADMIN_SID, errors);
			await tr.page.goto(`${base}/cgi-bin/luci/admin/services/leakguard/status?lang=${env.LG_LANG}`);
			await tr.page.waitForSelector('#leakguard-state', { timeout: 20000 });
			const h3 = await tr.page.$$eval('h3', hs => hs.map(h => h.textContent));
			if (!h3.every(t => t.startsWith('[') && t.endsWith(']'))) fail(`untranslated headings: ${h3}`);
			step(`translated headings: ${h3}`);
			await tr.context.close();
		}

		// 9. The daemon dies: the page says so, with the last figures it wrote.
		if (env.LG_DAEMON_PID) {
			process.kill(Number(env.LG_DAEMON_PID), 'SIGKILL');
			const died = await until('the died state', async () => {
				const t = await page.textContent('#leakguard-state');
				return /died/.test(t) ? t : null;
			});
			step(`daemon killed: ${died}`);
			await shot(page, 'luci-status-died.png');
		}

		if (errors.length) fail(`errors in the page:\n${errors.join('\n')}`);
		step('all passed');
	}
	finally {
		await browser.close();
		server.kill();
	}
}

main().then(() => process.exit(0), e => { console.error(`FAILED: ${e.stack ?? e}`); process.exit(1); });
