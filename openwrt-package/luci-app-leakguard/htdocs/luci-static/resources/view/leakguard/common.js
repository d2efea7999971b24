'use strict';
'require baseclass';
'require rpc';

/*
 * What every leakguard tab shares: the calls to the rpcd object `luci.leakguard` (an exec plugin,
 * /usr/libexec/rpcd/luci.leakguard, answered by the leakguard binary) and how values are shown.
 * Every reply of the backend is an object; failures are { ok: false, error: '…' } and config
 * errors also carry line, column and key.
 */

var callStatus = rpc.declare({
	object: 'luci.leakguard',
	method: 'status',
	expect: { '': {} }
});

var callUnblock = rpc.declare({
	object: 'luci.leakguard',
	method: 'unblock',
	params: [ 'id' ],
	expect: { '': {} }
});

var callGetConfig = rpc.declare({
	object: 'luci.leakguard',
	method: 'get_config',
	expect: { '': {} }
});

var callCheckConfig = rpc.declare({
	object: 'luci.leakguard',
	method: 'check_config',
	params: [ 'text' ],
	expect: { '': {} }
});

var callSetConfig = rpc.declare({
	object: 'luci.leakguard',
	method: 'set_config',
	params: [ 'text' ],
	expect: { '': {} }
});

var callSetSettings = rpc.declare({
	object: 'luci.leakguard',
	method: 'set_settings',
	params: [ 'settings' ],
	expect: { '': {} }
});

var callSetMode = rpc.declare({
	object: 'luci.leakguard',
	method: 'set_mode',
	params: [ 'mode' ],
	expect: { '': {} }
});

var callDevices = rpc.declare({
	object: 'luci.leakguard',
	method: 'devices',
	expect: { '': {} }
});

/* One report row: the device by its history id (and its name, when the id is not resolvable),
 * the kind, the destination. The same code as `leakguard allow` / `leakguard block`. */
var callAllow = rpc.declare({
	object: 'luci.leakguard',
	method: 'allow',
	params: [ 'device_id', 'device', 'name', 'kind', 'dst' ],
	expect: { '': {} }
});

var callBlock = rpc.declare({
	object: 'luci.leakguard',
	method: 'block',
	params: [ 'device_id', 'device', 'name', 'kind', 'dst' ],
	expect: { '': {} }
});

function pad(n) {
	return (n < 10 ? '0' : '') + n;
}

return baseclass.extend({
	callStatus: callStatus,
	callUnblock: callUnblock,
	callGetConfig: callGetConfig,
	callCheckConfig: callCheckConfig,
	callSetConfig: callSetConfig,
	callSetSettings: callSetSettings,
	callSetMode: callSetMode,
	callDevices: callDevices,
	callAllow: callAllow,
	callBlock: callBlock,

	/* Unix seconds as the router's local date and time. */
	formatTime: function(secs) {
		if (!secs)
			return '-';

		var d = new Date(secs * 1000);

		return '%d-%s-%s %s:%s:%s'.format(d.getFullYear(), pad(d.getMonth() + 1), pad(d.getDate()),
			pad(d.getHours()), pad(d.getMinutes()), pad(d.getSeconds()));
	},

	/* 3d 4h 5m, 4h 5m, 5m 6s or 6s, as `leakguard status` prints durations. */
	formatDuration: function(secs) {
		secs = Math.max(0, Math.floor(+secs || 0));

		var d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24,
		    m = Math.floor(secs / 60) % 60, s = secs % 60;

		if (d > 0)
			return '%dd %dh %dm'.format(d, h, m);
		if (h > 0)
			return '%dh %dm'.format(h, m);
		if (m > 0)
			return '%dm %ds'.format(m, s);

		return '%ds'.format(s);
	},

	modeName: function(mode) {
		switch (mode) {
		case 'enforce': return _('Enforce (drop and block leaks)');
		case 'monitor': return _('Monitor (report only)');
		default:        return mode || '-';
		}
	},

	/* A config error from the backend as "line 3, column 9: key: message". */
	errorText: function(res) {
		if (!res)
			return _('No answer from the router');

		if (res.line > 0)
			return _('Line %d, column %d: %s').format(res.line, res.column, res.key ? res.key + ': ' + res.message : res.message);

		return res.error || res.message || _('Unknown error');
	},

	/* The banner a tab shows while leakguard only reports (a new install starts so). */
	monitorBanner: function(mode, switchButton) {
		if (mode != 'monitor')
			return E([]);

		return E('div', { 'class': 'alert-message warning', 'id': 'leakguard-monitor-banner' }, [
			E('h4', {}, _('leakguard is in monitor mode')),
			E('p', {}, _('Leaks are found and reported, but nothing is dropped or blocked. Check the alerts for false positives, then switch to enforce mode.')),
			switchButton || E([])
		]);
	}
});
