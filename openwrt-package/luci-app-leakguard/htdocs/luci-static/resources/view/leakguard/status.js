'use strict';
'require view';
'require dom';
'require poll';
'require ui';
'require view.leakguard.common as lg';

/*
 * Services → leakguard → Status: is the daemon running (and since when), its mode and backends,
 * its counters, the recent alerts and the active blocks, with Unblock. Refreshed by polling.
 * Identifiers arrive masked by the daemon (as in syslog) and are shown as they are.
 */

function table(titles) {
	return E('table', { 'class': 'table' }, [
		E('tr', { 'class': 'tr table-titles' }, titles.map(function(t) {
			return E('th', { 'class': 'th' }, [ t ]);
		}))
	]);
}

/* Replaces the rows of a table made by table() (LuCI's own tables: tr.tr / td.td with a
 * data-title each, a placeholder row when empty). */
function fill(tbl, rows, placeholder) {
	var titles = Array.prototype.map.call(tbl.querySelectorAll('.th'), function(th) {
		return th.textContent;
	});

	while (tbl.rows.length > 1)
		tbl.deleteRow(1);

	rows.forEach(function(row, n) {
		tbl.appendChild(E('tr', { 'class': 'tr cbi-rowstyle-%d'.format(n % 2 ? 2 : 1) },
			row.map(function(cell, i) {
				return E('td', { 'class': 'td', 'data-title': titles[i] }, [ cell != null ? cell : '' ]);
			})));
	});

	if (!rows.length)
		tbl.appendChild(E('tr', { 'class': 'tr placeholder' }, [
			E('td', { 'class': 'td', 'colspan': titles.length }, [ E('em', {}, [ placeholder ]) ])
		]));
}

function field(label, value) {
	return E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'width': '33%' }, [ label ]),
		E('td', { 'class': 'td left' }, [ value ])
	]);
}

function device(d) {
	d = d || {};
	return E([], [
		d.name ? E('strong', {}, [ d.name ]) : '',
		d.name ? E('br') : '',
		[ d.mac, d.ip ].filter(function(x) { return x; }).join(' ')
	]);
}

function destination(dst) {
	dst = dst || {};
	return E([], [
		dst.name ? E('strong', {}, [ dst.name ]) : '',
		dst.name ? E('br') : '',
		'%s:%s/%s'.format(dst.ip || '?', dst.port != null ? dst.port : '?', dst.proto || '?')
	]);
}

return view.extend({
	load: function() {
		return lg.callStatus();
	},

	handleUnblock: function(id, ev) {
		return lg.callUnblock(String(id)).then(L.bind(function(res) {
			if (!res.ok)
				ui.addNotification(null, E('p', {}, [ _('Unblocking failed: %s').format(res.error || '?') ]), 'danger');
			return this.refresh();
		}, this));
	},

	handleMode: function(mode, ev) {
		return lg.callSetMode(mode).then(L.bind(function(res) {
			if (!res.ok)
				ui.addNotification(null, E('p', {}, [ _('Switching the mode failed: %s').format(lg.errorText(res)) ]), 'danger');
			else if (!res.reloaded)
				ui.addNotification(null, E('p', {}, [ _('Saved; the daemon did not reload: %s').format(res.reload_error || '?') ]), 'warning');
			return this.refresh();
		}, this));
	},

	refresh: function() {
		return lg.callStatus().then(L.bind(this.update, this));
	},

	modeButton: function(mode) {
		if (!L.hasViewPermission())
			return E([]);

		var to = (mode == 'monitor') ? 'enforce' : 'monitor';

		return E('button', {
			'class': 'btn cbi-button ' + (to == 'enforce' ? 'cbi-button-apply' : 'cbi-button-neutral'),
			'id': 'leakguard-mode-switch',
			'click': ui.createHandlerFn(this, 'handleMode', to)
		}, [ to == 'enforce' ? _('Switch to enforce mode') : _('Switch to monitor mode') ]);
	},

	update: function(res) {
		var st = res.status || {}, c = st.counters || {}, n = this.nodes;
		var running = !!res.running;
		var state;

		if (running)
			state = E('span', { 'class': 'label success', 'id': 'leakguard-state' }, [
				_('Running since %s (up %s)').format(lg.formatTime(st.started), lg.formatDuration(st.uptime_secs))
			]);
		else if (res.state == 'died')
			state = E('span', { 'class': 'label important', 'id': 'leakguard-state' }, [
				res.last_seen
					? _('Not running: died, last seen %s').format(lg.formatTime(res.last_seen))
					: _('Not running: died')
			]);
		else
			state = E('span', { 'class': 'label warning', 'id': 'leakguard-state' }, [
				res.last_seen
					? _('Not running: stopped, last seen %s').format(lg.formatTime(res.last_seen))
					: _('Not running')
			]);

		dom.content(n.banner, [
			lg.monitorBanner(st.mode, this.modeButton(st.mode)),
			running ? '' : E('div', { 'class': 'alert-message warning' }, [
				E('p', {}, [ _('The daemon does not answer: %s').format(res.error || '?') ]),
				res.stale ? E('p', {}, [ _('The figures below are the last ones it wrote.') ]) : ''
			]),
			res.config_error ? E('div', { 'class': 'alert-message error' }, [
				E('p', {}, [ _('The config file has an error: %s').format(res.config_error) ])
			]) : ''
		]);

		dom.content(n.overview, [
			field(_('Status'), state),
			/* In monitor mode the banner carries the switch. */
			field(_('Mode'), E([], [ E('span', { 'id': 'leakguard-mode' }, [ lg.modeName(st.mode) ]), ' ',
				(st.mode && st.mode != 'monitor') ? this.modeButton(st.mode) : '' ])),
			field(_('Version'), st.version || '-'),
			field(_('Queue backend'), st.queue_backend || '-'),
			field(_('Ruleset backend'), st.ruleset_backend || '-'),
			/* The daemon's own account of fw4's flow offloading (offloaded flows skip the queue). */
			field(_('Flow offloading'), E('span', { 'id': 'leakguard-offload' }, [ st.offload || '-' ])),
			field(_('Uptime'), running ? lg.formatDuration(st.uptime_secs) : '-'),
			field(_('Learned MACs'), String(st.learned_macs != null ? st.learned_macs : '-'))
		]);

		dom.content(n.counters, [
			field(_('Packets inspected'), String(c.packets || 0)),
			field(_('Bytes inspected'), String(c.bytes_inspected || 0)),
			field(_('Flows inspected'), String(c.flows_inspected || 0)),
			field(_('Flows bypassed (clean)'), String(c.bypassed || 0)),
			field(_('Packets dropped'), String(c.dropped || 0)),
			field(_('Leaks found'), String(c.leaks || 0)),
			field(_('Alerts not logged (rate limit)'), String(c.alerts_suppressed || 0))
		]);

		fill(n.alerts, (st.recent_alerts || []).map(function(a) {
			return [
				lg.formatTime(a.time),
				device(a.device),
				a.kind,
				a.encoding,
				E('code', { 'class': 'leakguard-value' }, [ a.value ]),
				destination(a.dst),
				a.action
			];
		}), _('No leaks seen'));

		var blocks = st.blocks || [];

		fill(n.blocks, blocks.map(L.bind(function(b) {
			return [
				'#' + b.id,
				b.scope,
				E([], [ b.device ? E('strong', {}, [ b.device ]) : '', b.device ? E('br') : '', b.src || _('any device') ]),
				b.dst,
				lg.formatDuration(b.expires_in_secs),
				E('button', {
					'class': 'btn cbi-button cbi-button-remove',
					'data-block': b.id,
					'click': ui.createHandlerFn(this, 'handleUnblock', b.id)
				}, [ _('Unblock') ])
			];
		}, this)), _('No active blocks'));

		dom.content(n.unblockAll, blocks.length ? E('button', {
			'class': 'btn cbi-button cbi-button-remove',
			'id': 'leakguard-unblock-all',
			'click': ui.createHandlerFn(this, 'handleUnblock', 'all')
		}, [ _('Unblock all') ]) : '');
	},

	render: function(res) {
		this.nodes = {
			banner: E('div'),
			overview: E('table', { 'class': 'table', 'id': 'leakguard-overview' }),
			counters: E('table', { 'class': 'table', 'id': 'leakguard-counters' }),
			alerts: table([ _('Time'), _('Device'), _('Kind'), _('Encoding'), _('Value (masked)'), _('Destination'), _('Action') ]),
			blocks: table([ _('Block'), _('Scope'), _('Device'), _('Destination'), _('Expires in'), '' ]),
			unblockAll: E('div', { 'class': 'right' })
		};
		this.nodes.alerts.id = 'leakguard-alerts';
		this.nodes.blocks.id = 'leakguard-blocks';

		this.update(res);

		poll.add(L.bind(this.refresh, this));

		return E([], [
			E('h2', {}, [ _('leakguard') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('leakguard inspects the first bytes of each flow LAN devices open, and drops and blocks those that carry the devices\' identifiers (IMEI, IMSI, ICCID, MAC, phone number, serial) in cleartext.')
			]),
			this.nodes.banner,
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Daemon') ]), this.nodes.overview ]),
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Counters') ]), this.nodes.counters ]),
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Active blocks') ]), this.nodes.blocks, this.nodes.unblockAll ]),
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Recent alerts') ]), this.nodes.alerts ])
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
