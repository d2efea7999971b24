'use strict';
'require view';
'require dom';
'require poll';
'require ui';
'require view.leakguard.common as lg';

/*
 * Services → leakguard → Devices: what each LAN device sent where, over the kept days (the
 * daemon's per-device history, as `leakguard report` prints it). One row per device with its
 * totals and a chart of its leaks per day; a row expands to its destinations, each with Allow /
 * Block for that kind to that name (an [[allow]] rule for that device, written by the same code
 * as `leakguard allow` / `leakguard block`, validated, and the daemon reloaded).
 *
 * Identifiers arrive masked; devices are named to the backend by the history's digest of their
 * MAC (`id`), which the backend resolves to the MAC among those the router has seen.
 */

var SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, children) {
	var node = document.createElementNS(SVG, tag);
	for (var k in attrs)
		node.setAttribute(k, attrs[k]);
	(children || []).forEach(function(c) {
		node.appendChild(typeof(c) == 'string' ? document.createTextNode(c) : c);
	});
	return node;
}

function pad(n) {
	return (n < 10 ? '0' : '') + n;
}

/* Days since 1970-01-01 (UTC), as the history counts them, as a date. */
function dayText(day) {
	var d = new Date(day * 86400000);
	return '%d-%s-%s'.format(d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()));
}

/* Leaks per day over the kept period, oldest left: one bar a day, scaled to the busiest day,
 * each with its date and count as its tooltip. Drawn here: no chart library on a router. */
function chart(device, today, keepDays) {
	var days = Math.max(1, Math.min(keepDays || 30, 366));
	var width = 150, height = 32, gap = days > 60 ? 0 : 1;
	var bar = width / days;
	var counts = {};
	var max = 0;

	(device.days || []).forEach(function(d) {
		counts[d.day] = d.leaks;
		max = Math.max(max, d.leaks);
	});

	var bars = [];
	for (var i = 0; i < days; i++) {
		var day = today - days + 1 + i;
		var n = counts[day] || 0;
		var h = max ? Math.max(n ? 2 : 0, Math.round((height - 2) * n / max)) : 0;

		bars.push(svg('rect', {
			'x': (i * bar).toFixed(2),
			'y': height - 1 - h,
			'width': Math.max(0.5, bar - gap).toFixed(2),
			'height': h,
			'class': 'leakguard-bar',
			'data-day': dayText(day),
			'data-leaks': n,
			'fill': n ? '#c0392b' : 'none'
		}, [ svg('title', {}, [ _('%s: %d leak(s)').format(dayText(day), n) ]) ]));
	}

	return svg('svg', {
		'class': 'leakguard-chart',
		'id': 'leakguard-chart-' + device.id,
		'width': width,
		'height': height,
		'viewBox': '0 0 %d %d'.format(width, height),
		'role': 'img',
		'aria-label': _('Leaks per day, last %d days (most on one day: %d)').format(days, max)
	}, [
		svg('line', { 'x1': 0, 'y1': height - 0.5, 'x2': width, 'y2': height - 0.5, 'stroke': '#999', 'stroke-width': 1 })
	].concat(bars));
}

function cell(title, content, attrs) {
	return E('td', Object.assign({ 'class': 'td', 'data-title': title }, attrs || {}), content);
}

function actionText(r) {
	return [ [ 'blocked', r.blocked ], [ 'dropped', r.dropped ], [ 'reported', r.reported ] ]
		.filter(function(a) { return a[1] > 0; })
		.map(function(a) { return a[1] == r.count ? a[0] : '%s %d'.format(a[0], a[1]); })
		.join(', ');
}

return view.extend({
	load: function() {
		return lg.callDevices();
	},

	expanded: {},

	refresh: function() {
		return lg.callDevices().then(L.bind(this.update, this));
	},

	/* Allow (or block) one kind from one device to one destination name or address. */
	handleRow: function(allowing, device, kind, dst, ev) {
		var call = allowing ? lg.callAllow : lg.callBlock;
		var name = device.name || '';

		return call(device.id, name.indexOf('*') < 0 ? name : '', name, kind, dst).then(L.bind(function(res) {
			var n = this.nodes.result;

			if (!res.ok)
				dom.content(n, E('div', { 'class': 'alert-message error', 'id': 'leakguard-devices-error' }, [
					E('p', {}, [ lg.errorText(res) ])
				]));
			else
				dom.content(n, E('div', { 'class': 'alert-message ' + (res.written && !res.reloaded ? 'warning' : 'success'), 'id': 'leakguard-devices-done' }, [
					E('p', {}, [ res.message || '' ]),
					(res.written && !res.reloaded)
						? E('p', {}, [ _('Saved; the daemon did not reload: %s').format(res.reload_error || '?') ])
						: ''
				]));

			return this.refresh();
		}, this));
	},

	toggle: function(id, ev) {
		this.expanded[id] = !this.expanded[id];
		var row = document.getElementById('leakguard-dests-' + id);
		if (row)
			row.style.display = this.expanded[id] ? '' : 'none';
		if (ev && ev.currentTarget)
			ev.currentTarget.textContent = this.expanded[id] ? '▾' : '▸';
	},

	/* The destinations of one device: one row per (domain, kind, encoding, source), its full
	 * names and addresses below, each with Allow / Block. */
	destinations: function(d) {
		var titles = [ _('Destination'), _('Kind'), _('Value (masked)'), _('Encoding'), _('Source'), _('Count'), _('First seen'), _('Last seen'), _('Action') ];
		var canWrite = L.hasViewPermission();
		var tbl = E('table', { 'class': 'table leakguard-destinations' }, [
			E('tr', { 'class': 'tr table-titles' }, titles.map(function(t) { return E('th', { 'class': 'th' }, [ t ]); }))
		]);

		(d.destinations || []).forEach(L.bind(function(r, i) {
			var targets = (r.names && r.names.length) ? r.names : (r.addresses || []).map(function(a) { return a.ip; })
				.filter(function(ip, k, all) { return all.indexOf(ip) == k; });
			var values = (r.values || []).length + (r.more_values || 0);
			var value = (r.values && r.values.length) ? r.values[0].masked + (values > 1 ? ' +%d'.format(values - 1) : '') : '';

			var where = E('div', {}, [ E('strong', {}, [ r.domain ]) ].concat(targets.map(L.bind(function(t) {
				return E('div', { 'class': 'leakguard-target', 'data-dst': t, 'data-kind': r.kind }, [
					E('span', {}, [ t ]), ' ',
					canWrite ? E('button', {
						'class': 'btn cbi-button cbi-button-apply leakguard-allow-btn',
						'title': _('Let %s go to %s from this device').format(r.kind, t),
						'click': ui.createHandlerFn(this, 'handleRow', true, d, r.kind, t)
					}, [ _('Allow') ]) : '', ' ',
					canWrite ? E('button', {
						'class': 'btn cbi-button cbi-button-remove leakguard-block-btn',
						'title': _('Take back what lets %s go to %s from this device').format(r.kind, t),
						'click': ui.createHandlerFn(this, 'handleRow', false, d, r.kind, t)
					}, [ _('Block') ]) : ''
				]);
			}, this))));

			tbl.appendChild(E('tr', { 'class': 'tr cbi-rowstyle-%d leakguard-dest'.format(i % 2 ? 2 : 1) }, [
				cell(titles[0], where),
				cell(titles[1], [ r.kind ]),
				cell(titles[2], [ E('code', { 'class': 'leakguard-value' }, [ value ]) ]),
				cell(titles[3], [ r.encoding ]),
				cell(titles[4], [ r.source ]),
				cell(titles[5], [ String(r.count) ]),
				cell(titles[6], [ lg.formatTime(r.first_seen) ]),
				cell(titles[7], [ lg.formatTime(r.last_seen) ]),
				cell(titles[8], [ actionText(r) ])
			]));
		}, this));

		if (!(d.destinations || []).length)
			tbl.appendChild(E('tr', { 'class': 'tr placeholder' }, [
				E('td', { 'class': 'td', 'colspan': titles.length }, [ E('em', {}, [ _('No leaks') ]) ])
			]));

		if (d.evicted > 0)
			tbl.appendChild(E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td', 'colspan': titles.length }, [
					E('em', {}, [ _('%d older row(s) evicted to stay within history.max_destinations').format(d.evicted) ])
				])
			]));

		return tbl;
	},

	update: function(res) {
		var n = this.nodes;
		var today = Math.floor((res.now || Date.now() / 1000) / 86400);
		var titles = [ '', _('Device'), _('Leaks'), _('Flows inspected'), _('With a leak'), _('Blocked'), _('Destinations'), _('Last seen'), _('Leaks per day') ];

		dom.content(n.banner, [
			lg.monitorBanner(res.mode),
			res.ok === false ? E('div', { 'class': 'alert-message error' }, [ E('p', {}, [ lg.errorText(res) ]) ]) : '',
			(res.ok !== false && !res.running) ? E('div', { 'class': 'alert-message warning' }, [
				E('p', {}, [ _('The daemon does not answer: this is the history it last saved.') ])
			]) : ''
		]);

		var tbl = E('table', { 'class': 'table', 'id': 'leakguard-devices' }, [
			E('tr', { 'class': 'tr table-titles' }, titles.map(function(t) { return E('th', { 'class': 'th' }, [ t ]); }))
		]);

		(res.devices || []).forEach(L.bind(function(d, i) {
			var open = !!this.expanded[d.id];
			var domains = {};
			(d.destinations || []).forEach(function(r) { domains[r.domain] = true; });

			tbl.appendChild(E('tr', { 'class': 'tr cbi-rowstyle-%d leakguard-device-row'.format(i % 2 ? 2 : 1), 'data-device': d.id }, [
				cell(titles[0], [ E('button', {
					'class': 'btn cbi-button leakguard-expand',
					'title': _('Show the destinations'),
					'click': ui.createHandlerFn(this, 'toggle', d.id)
				}, [ open ? '▾' : '▸' ]) ]),
				cell(titles[1], [
					d.name ? E('strong', {}, [ d.name ]) : E('em', {}, [ _('(no name)') ]), E('br'),
					[ d.mac || '' ].concat(d.addresses || []).filter(function(x) { return x; }).join(' ')
				]),
				cell(titles[2], [ String(d.leaks || 0) ]),
				cell(titles[3], [ String(d.flows_inspected || 0) ]),
				cell(titles[4], [ String(d.flows_leaked || 0) ]),
				cell(titles[5], [ String(d.flows_blocked || 0) ]),
				cell(titles[6], [ String(Object.keys(domains).length) ]),
				cell(titles[7], [ lg.formatTime(d.last_seen) ]),
				cell(titles[8], [ chart(d, today, res.keep_days) ])
			]));

			tbl.appendChild(E('tr', {
				'class': 'tr leakguard-dests',
				'id': 'leakguard-dests-' + d.id,
				'style': open ? '' : 'display:none'
			}, [ E('td', { 'class': 'td', 'colspan': titles.length }, [ this.destinations(d) ]) ]));
		}, this));

		if (!(res.devices || []).length)
			tbl.appendChild(E('tr', { 'class': 'tr placeholder' }, [
				E('td', { 'class': 'td', 'colspan': titles.length }, [ E('em', {}, [ _('No device has leaked anything yet') ]) ])
			]));

		dom.content(n.devices, tbl);
	},

	render: function(res) {
		this.nodes = {
			banner: E('div'),
			result: E('div', { 'id': 'leakguard-devices-result' }),
			devices: E('div')
		};

		this.update(res);

		poll.add(L.bind(this.refresh, this));

		return E([], [
			E('h2', {}, [ _('leakguard: devices') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('What each LAN device sent where over the kept days: the identifier kinds, the destinations (grouped by the domain that registered them), how often and what was done. Allow lets one kind go from one device to one destination; Block takes that back.')
			]),
			this.nodes.banner,
			this.nodes.result,
			E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Devices') ]), this.nodes.devices ])
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
