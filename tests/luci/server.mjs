// The router's side of a LuCI page, for leakguard's browser test: what uhttpd, LuCI's ucode
// dispatcher and rpcd answer, as ../shared/openwrt/NOTES.md describes them (checked against
// openwrt/luci, openwrt/uhttpd and openwrt/rpcd). Node built-ins only.
//
//  GET  /cgi-bin/luci/admin/...            the page shell (theme header, luci.js, `new LuCI(env)`,
//                                          #view running ui.instantiateView, theme footer)
//  GET  /cgi-bin/luci/admin/translations/L `window.TR={…};` (from LG_PO for LG_LANG, else empty)
//  GET  /cgi-bin/luci/admin/menu           the menu tree: a few base nodes + the app's menu.d,
//                                          `satisfied`/`readonly` from the session's ACL
//  GET  /luci-static/...                   the client stand-ins (tests/luci/runtime) and the app's
//                                          own htdocs
//  POST /ubus/...                          JSON-RPC, one object or an array (batch), answered as
//                                          uhttpd's ubus handler does: parse → object exists →
//                                          ACL → arguments; `luci.leakguard` by running the app's
//                                          rpcd exec plugin as rpcd does, the rest by stand-ins
//
// Sessions (cookie sysauth_http, default: the admin one) get their ACL the way rpcd builds it:
// every group of every acl.d file whose name matches one of the login's read patterns grants its
// `read` section, a write match grants `read` and `write`; patterns use fnmatch.
//
// Environment: LG_APP (the luci-app dir), LG_RUNTIME (tests/luci/runtime), LG_ACL (extra acl.d
// files, ':'-separated: the luci-base stand-in), LG_LOG (a JSON line per request), LG_POLL (poll
// interval, default 5), LG_LANG/LG_PO (a translation), PORT (0: any). The plugin inherits the
// environment (PATH finds `leakguard`, LEAKGUARD_CONFIG names the config). Prints
// `listening <port>` when ready.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const APP = path.resolve(process.env.LG_APP ?? 'openwrt-package/luci-app-leakguard');
const RUNTIME = path.resolve(process.env.LG_RUNTIME ?? 'tests/luci/runtime');
const PLUGIN = path.join(APP, 'root/usr/libexec/rpcd/luci.leakguard');
const LOG = process.env.LG_LOG ?? null;
const POLL = Number(process.env.LG_POLL ?? 5);
const MAX_BODY = 64 * 1024;        // uhttpd-mod-ubus refuses larger POST bodies
const PLUGIN_TIMEOUT = 120 * 1000; // rpcd kills an exec plugin call after this
const PLUGIN_MAX_OUTPUT = 256 * 1024;

export const ADMIN_SID = '0123456789abcdef0123456789abcdef';
export const VIEWER_SID = 'fedcba9876543210fedcba9876543210';

const LOGINS = {
	[ADMIN_SID]: { user: 'root', read: [ '*' ], write: [ '*' ] },
	[VIEWER_SID]: { user: 'viewer', read: [ 'luci-base', 'luci-app-leakguard' ], write: [] },
};

function log(entry) {
	if (LOG)
		fs.appendFileSync(LOG, JSON.stringify({ t: Date.now(), ...entry }) + '\n');
}

// fnmatch(3) as rpcd uses it: * ? [...]
function fnmatch(pattern, text) {
	let re = '^';
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i];
		if (c == '*') re += '.*';
		else if (c == '?') re += '.';
		else if (c == '[') {
			const end = pattern.indexOf(']', i + 1);
			if (end < 0) { re += '\\['; continue; }
			let set = pattern.slice(i + 1, end);
			if (set[0] == '!') set = '^' + set.slice(1);
			re += '[' + set.replace(/\\/g, '\\\\') + ']';
			i = end;
		}
		else re += c.replace(/[.+^${}()|\\\/]/g, '\\$&');
	}
	return new RegExp(re + '$').test(text);
}

function aclFiles() {
	const dir = path.join(APP, 'root/usr/share/rpcd/acl.d');
	const files = fs.readdirSync(dir).filter(f => f.endsWith('.json')).map(f => path.join(dir, f));
	return files.concat((process.env.LG_ACL ?? '').split(':').filter(Boolean));
}

// The grants of a login: [{scope, object, fn}] plus the groups granted for read / write.
function buildAcl(login) {
	const grants = [], groups = { read: new Set(), write: new Set() };
	const add = (section, mode) => {
		for (const [scope, spec] of Object.entries(section ?? {})) {
			if (scope == 'ubus')
				for (const [object, fns] of Object.entries(spec))
					for (const fn of fns) grants.push({ scope, object, fn });
			else if (scope == 'uci')
				for (const config of spec) grants.push({ scope, object: config, fn: mode });
			else if (Array.isArray(spec))
				for (const fn of spec) grants.push({ scope, object: '*', fn });
			else
				for (const [object, fns] of Object.entries(spec))
					for (const fn of fns) grants.push({ scope, object, fn });
		}
	};
	for (const file of aclFiles()) {
		const acl = JSON.parse(fs.readFileSync(file, 'utf8'));
		for (const [group, spec] of Object.entries(acl)) {
			const canWrite = login.write.some(p => fnmatch(p, group));
			const canRead = canWrite || login.read.some(p => fnmatch(p, group));
			if (canRead) { add(spec.read, 'read'); groups.read.add(group); }
			if (canWrite) { add(spec.write, 'write'); groups.write.add(group); }
		}
	}
	return { grants, groups };
}

const sessions = Object.fromEntries(Object.entries(LOGINS).map(([sid, login]) => [ sid, { login, acl: buildAcl(login) } ]));

function access(session, scope, object, fn) {
	if (!session)
		return false;
	return session.acl.grants.some(g => g.scope == scope && fnmatch(g.object, object) && fnmatch(g.fn, fn));
}

// --- the exec plugin, run as rpcd runs it ---

function pluginList() {
	const r = spawnSync(PLUGIN, [ 'list' ], { stdio: [ 'ignore', 'pipe', 'inherit' ], timeout: 10000 });
	const sig = firstJson(r.stdout?.toString() ?? '');
	if (!sig || typeof sig != 'object' || Array.isArray(sig))
		throw new Error(`${PLUGIN} list did not print an object: ${r.stdout}`);
	return sig;
}

// The first JSON value of a text (rpcd's parser stops after one), or undefined.
function firstJson(text) {
	text = text.trimStart();
	if (!text) return undefined;
	let depth = 0, inString = false, esc = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (inString) {
			if (esc) esc = false;
			else if (c == '\\') esc = true;
			else if (c == '"') inString = false;
			if (!inString && depth == 0) return tryParse(text.slice(0, i + 1));
			continue;
		}
		if (c == '"') inString = true;
		else if (c == '{' || c == '[') depth++;
		else if (c == '}' || c == ']') { if (--depth == 0) return tryParse(text.slice(0, i + 1)); }
		else if (depth == 0 && /\s/.test(c)) return tryParse(text.slice(0, i));
	}
	return tryParse(text);
}

function tryParse(s) {
	try { return JSON.parse(s); } catch (e) { return Symbol.for('invalid'); }
}

function pluginCall(method, args, sid) {
	return new Promise(resolve => {
		const child = spawn(PLUGIN, [ 'call', method ], { stdio: [ 'pipe', 'pipe', 'inherit' ] });
		let out = Buffer.alloc(0), done = false;
		const finish = (result) => { if (!done) { done = true; clearTimeout(timer); resolve(result); } };
		const timer = setTimeout(() => { child.kill('SIGKILL'); finish([ 7 ]); }, PLUGIN_TIMEOUT);
		child.stdout.on('data', d => {
			out = Buffer.concat([ out, d ]);
			if (out.length > PLUGIN_MAX_OUTPUT) { child.kill('SIGKILL'); finish([ 2 ]); }
		});
		child.on('close', () => {
			const v = firstJson(out.toString('utf8'));
			if (v === undefined || v === null) finish([ 5 ]);
			else if (typeof v == 'object' && !Array.isArray(v)) finish([ 0, v ]);
			else finish([ 2 ]);
		});
		child.on('error', () => finish([ 9 ]));
		// Compact JSON, no trailing newline, with the session added (rpcd exec.c).
		child.stdin.end(JSON.stringify({ ...args, ubus_rpc_session: sid }));
	});
}

// --- stand-ins for the objects every LuCI page asks ---

const LUCI_CONFIG = {
	main: { '.anonymous': false, '.type': 'core', '.name': 'main', lang: 'auto', mediaurlbase: '/luci-static/bootstrap', resourcebase: '/luci-static/resources', ubuspath: '/ubus/' },
	languages: { '.anonymous': false, '.type': 'internal', '.name': 'languages' },
	sauth: { '.anonymous': false, '.type': 'internal', '.name': 'sauth', sessionpath: '/tmp/luci-sessions', sessiontime: '3600' },
	ccache: { '.anonymous': false, '.type': 'internal', '.name': 'ccache', enable: '1' },
	themes: { '.anonymous': false, '.type': 'internal', '.name': 'themes', Bootstrap: '/luci-static/bootstrap' },
};

let objects = null;

function ubusObjects() {
	if (!objects)
		objects = {
			session: { access: { scope: 'String', object: 'String', function: 'String' } },
			uci: { get: { config: 'String' }, changes: { config: 'String' } },
			luci: { getFeatures: {} },
			file: { list: { path: 'String' } },
			'luci.leakguard': pluginList(),
		};
	return objects;
}

async function ubusCall(session, sid, object, method, args) {
	const sig = ubusObjects()[object];
	if (!(method in sig))
		return [ 3 ];
	switch (object) {
	case 'session':
		return [ 0, { access: access(session, args.scope, args.object, args.function) } ];
	case 'uci':
		if (method == 'changes') return [ 0, { changes: {} } ];
		return args.config == 'luci' ? [ 0, { values: LUCI_CONFIG } ] : [ 4 ];
	case 'luci':
		return [ 0, {} ];
	case 'file':
		return [ 4 ];
	default:
		return pluginCall(method, args, sid);
	}
}

function rpcError(id, code, message) {
	return { jsonrpc: '2.0', id: id ?? null, error: { code, message } };
}

async function handleRpc(req, session) {
	if (req == null || typeof req != 'object' || Array.isArray(req) || req.jsonrpc != '2.0' || typeof req.method != 'string')
		return rpcError(req?.id, -32600, 'Invalid request');

	if (req.method == 'list') {
		const names = Object.keys(ubusObjects());
		if (!Array.isArray(req.params))
			return { jsonrpc: '2.0', id: req.id, result: names };
		const result = {};
		for (const n of req.params)
			if (names.includes(n))
				result[n] = ubusObjects()[n];
		return { jsonrpc: '2.0', id: req.id, result };
	}

	if (req.method != 'call')
		return rpcError(req.id, -32601, 'Method not found');

	const [ sid, object, method, args ] = Array.isArray(req.params) ? req.params : [];
	if (typeof sid != 'string' || typeof object != 'string' || typeof method != 'string')
		return rpcError(req.id, -32602, 'Invalid parameters');
	if (!(object in ubusObjects()))
		return rpcError(req.id, -32000, 'Object not found');
	const s = sessions[sid];
	const allowed = access(s, 'ubus', object, method);
	log({ rpc: { object, method, allowed, user: s?.login.user ?? null } });
	if (!allowed)
		return rpcError(req.id, -32002, 'Access denied');
	if (args != null && (typeof args != 'object' || Array.isArray(args)))
		return rpcError(req.id, -32602, 'Invalid parameters');

	const result = await ubusCall(s, sid, object, method, args ?? {});
	return { jsonrpc: '2.0', id: req.id, result };
}

// --- menu and page shell ---

const BASE_MENU = {
	'admin': { title: 'Administration', order: 10, action: { type: 'firstchild' } },
	'admin/status': { title: 'Status', order: 10, action: { type: 'firstchild' } },
	'admin/status/overview': { title: 'Overview', order: 1, action: { type: 'view', path: 'status/index' } },
	'admin/system': { title: 'System', order: 20, action: { type: 'firstchild' } },
	'admin/system/system': { title: 'System', order: 1, action: { type: 'view', path: 'system/system' } },
	'admin/services': { title: 'Services', order: 40, action: { type: 'firstchild' } },
	'admin/network': { title: 'Network', order: 50, action: { type: 'firstchild' } },
	'admin/network/network': { title: 'Interfaces', order: 10, action: { type: 'view', path: 'network/network' } },
};

function menuEntries() {
	const dir = path.join(APP, 'root/usr/share/luci/menu.d');
	const entries = { ...BASE_MENU };
	for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.json')))
		Object.assign(entries, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
	return entries;
}

// depends: acl groups (all granted; read-only when none is granted for write), fs paths (looked
// up in the app's root/, as if the package were installed), uci configs (assumed present).
function satisfied(node, session) {
	const dep = node.depends ?? {};
	let ok = true, readonly = false;
	for (const group of dep.acl ?? []) {
		if (!session?.acl.groups.read.has(group)) ok = false;
		if (!session?.acl.groups.write.has(group)) readonly = true;
	}
	for (const [p, kind] of Object.entries(dep.fs ?? {})) {
		const local = path.join(APP, 'root', p);
		try {
			const st = fs.statSync(local);
			if (kind == 'executable' && !(st.mode & 0o111)) ok = false;
			if (kind == 'directory' && !st.isDirectory()) ok = false;
		}
		catch (e) { ok = false; }
	}
	return { satisfied: ok, readonly };
}

function menuTree(session) {
	const root = { satisfied: true, children: {} };
	const entries = menuEntries();
	for (const key of Object.keys(entries).sort((a, b) => a.split('/').length - b.split('/').length)) {
		let node = root;
		const parts = key.split('/');
		for (let i = 0; i < parts.length - 1; i++)
			node = (node.children[parts[i]] ??= { satisfied: true, children: {} });
		const e = entries[key];
		const st = satisfied(e, session);
		const parentReadonly = node.readonly ?? false;
		const child = (node.children[parts.at(-1)] ??= { children: {} });
		Object.assign(child, { title: e.title, order: Number(e.order ?? 1000), action: e.action,
			satisfied: st.satisfied && node.satisfied !== false, readonly: st.readonly || parentReadonly });
		if (e.depends) child.depends = e.depends;
	}
	return root;
}

function findNode(tree, parts) {
	let node = tree;
	for (const p of parts) {
		node = node?.children?.[p];
		if (!node) return null;
	}
	return node;
}

// Follows alias / firstchild actions to the node that renders.
function resolvePage(tree, parts) {
	for (let hops = 0; hops < 8; hops++) {
		const node = findNode(tree, parts);
		if (!node) return null;
		if (node.action?.type == 'alias')
			parts = node.action.path.split('/');
		else if (node.action?.type == 'firstchild') {
			const kids = Object.entries(node.children ?? {}).filter(([ , c ]) => c.satisfied && c.title)
				.sort(([ , a ], [ , b ]) => a.order - b.order);
			if (!kids.length) return null;
			parts = parts.concat(kids[0][0]);
		}
		else
			return { node, parts };
	}
	return null;
}

function escapeJson(v) {
	return JSON.stringify(v).replace(/\//g, '\\/').replace(/</g, '\\u003c');
}

function shell(page, sid, lang) {
	const { node, parts } = page;
	const env = {
		sessionid: sid,
		token: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
		nodespec: { satisfied: node.satisfied, readonly: node.readonly, title: node.title, order: node.order, action: node.action, depends: node.depends },
		pollinterval: POLL,
		ubuspath: '/ubus/',
		media: '/luci-static/bootstrap',
		resource: '/luci-static/resources',
		scriptname: '/cgi-bin/luci',
		pathinfo: '/' + parts.join('/'),
		documentroot: '/www',
		requestpath: parts,
		dispatchpath: parts,
		apply_rollback: 90,
		apply_holdoff: 4,
		apply_timeout: 5,
		apply_display: 1.5,
		rollback_token: null,
	};
	const view = node.action.path;
	return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>OpenWrt - ${node.title ?? ''} - LuCI</title>
<meta name="viewport" content="initial-scale=1.0">
<link rel="stylesheet" href="/luci-static/bootstrap/cascade.css">
<script src="/cgi-bin/luci/admin/translations/${lang}"></script>
<script src="/luci-static/resources/cbi.js"></script>
<script src="/luci-static/resources/luci.js?v=test-build"></script>
<script>
	L = new LuCI(${escapeJson(env)});
</script>
</head>
<body class="lang_${lang}" data-page="${parts.join('-')}">
<header>
	<div class="fill">
		<div class="container">
			<a class="brand" href="/">OpenWrt</a>
			<ul class="nav" id="topmenu" style="display:none"></ul>
			<div id="indicators" class="pull-right"></div>
		</div>
	</div>
</header>
<div id="maincontent" class="container">
	<div id="tabmenu" style="display:none"></div>
	<div id="view">
		<div class="spinning">Loading view…</div>
		<script>
			L.require('ui').then(function(ui) {
				ui.instantiateView('${view}');
			});
		</script>
	</div>
	<footer>
		<span>Powered by LuCI (stand-in of leakguard's browser test)</span>
	</footer>
</div>
<script>L.require('menu-bootstrap')</script>
</body>
</html>
`;
}

// A .po file as window.TR (keyed by message; see runtime/cbi.js).
function translations(lang) {
	if (!process.env.LG_PO || lang != process.env.LG_LANG)
		return 'window.TR={};';
	const tr = {};
	let id = null, str = null, cur = null;
	const unq = s => JSON.parse(s);
	const flush = () => { if (id && str) tr[id] = str; id = str = cur = null; };
	for (const line of fs.readFileSync(process.env.LG_PO, 'utf8').split('\n')) {
		if (line.startsWith('msgid ')) { flush(); id = unq(line.slice(6)); cur = 'id'; }
		else if (line.startsWith('msgstr ')) { str = unq(line.slice(7)); cur = 'str'; }
		else if (line.startsWith('"')) { if (cur == 'id') id += unq(line); else if (cur == 'str') str += unq(line); }
	}
	flush();
	return `window.TR=${escapeJson(tr)};`;
}

const TYPES = { '.js': 'application/javascript', '.css': 'text/css', '.json': 'application/json', '.html': 'text/html', '.png': 'image/png', '.svg': 'image/svg+xml' };

function serveFile(res, file) {
	fs.readFile(file, (err, data) => {
		if (err) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found'); return; }
		res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
		res.end(data);
	});
}

function cookies(req) {
	return Object.fromEntries((req.headers.cookie ?? '').split(/;\s*/).filter(Boolean).map(c => {
		const i = c.indexOf('=');
		return [ c.slice(0, i), decodeURIComponent(c.slice(i + 1)) ];
	}));
}

function staticPath(base, rel) {
	const p = path.normalize(path.join(base, rel));
	return p.startsWith(base + path.sep) ? p : null;
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://router');
	const p = url.pathname;
	const sid = cookies(req).sysauth_http ?? ADMIN_SID;
	const session = sessions[sid];
	log({ http: req.method, path: p, query: url.search });

	if (req.method == 'POST' && (p == '/ubus' || p.startsWith('/ubus/'))) {
		let body = Buffer.alloc(0), tooLarge = false;
		req.on('data', d => {
			body = Buffer.concat([ body, d ]);
			if (body.length > MAX_BODY) tooLarge = true;
		});
		req.on('end', async () => {
			if (tooLarge) { res.writeHead(413); res.end(); return; }
			let msg;
			try { msg = JSON.parse(body.toString('utf8')); }
			catch (e) {
				res.writeHead(200, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify(rpcError(null, -32700, 'Parse error')));
				return;
			}
			if (Array.isArray(msg))
				log({ batch: msg.length, path: p });
			const reply = Array.isArray(msg) ? await Promise.all(msg.map(m => handleRpc(m, session))) : await handleRpc(msg, session);
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(reply));
		});
		return;
	}

	if (req.method != 'GET') { res.writeHead(405); res.end(); return; }

	if (p.startsWith('/luci-static/resources/view/leakguard/')) {
		const f = staticPath(path.join(APP, 'htdocs/luci-static/resources'), p.slice('/luci-static/resources/'.length));
		return f ? serveFile(res, f) : (res.writeHead(404), res.end());
	}
	if (p.startsWith('/luci-static/resources/')) {
		const f = staticPath(RUNTIME, p.slice('/luci-static/resources/'.length));
		return f ? serveFile(res, f) : (res.writeHead(404), res.end());
	}
	if (p.startsWith('/luci-static/bootstrap/')) {
		const f = staticPath(path.join(RUNTIME, 'bootstrap'), p.slice('/luci-static/bootstrap/'.length));
		return f ? serveFile(res, f) : (res.writeHead(404), res.end());
	}

	const m = p.match(/^\/cgi-bin\/luci\/?(.*)$/);
	if (p == '/' || m) {
		const parts = (m ? m[1] : '').split('/').filter(Boolean);
		if (parts[0] == 'admin' && parts[1] == 'translations') {
			res.writeHead(200, { 'Content-Type': 'application/javascript' });
			res.end(translations(parts[2] ?? 'en'));
			return;
		}
		if (parts[0] == 'admin' && parts[1] == 'menu' && parts.length == 2) {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(menuTree(session)));
			return;
		}
		if (!session) {
			res.writeHead(403, { 'Content-Type': 'text/plain', 'X-LuCI-Login-Required': 'yes' });
			res.end('login required');
			return;
		}
		const page = resolvePage(menuTree(session), parts.length ? parts : [ 'admin', 'services', 'leakguard' ]);
		if (!page || !page.node.satisfied || page.node.action?.type != 'view') {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('no such page');
			return;
		}
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(shell(page, sid, url.searchParams.get('lang') ?? 'en'));
		return;
	}

	res.writeHead(404, { 'Content-Type': 'text/plain' });
	res.end('not found');
});

ubusObjects();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
	console.log(`listening ${server.address().port}`);
});
