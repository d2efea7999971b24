'use strict';
'require view';
'require dom';
'require ui';
'require view.leakguard.common as lg';

/*
 * Services → leakguard → Settings: mode, block scope and timeout, LAN interfaces, the known
 * devices and their identifiers, allow rules — and the config file itself.
 *
 * The config is TOML (/etc/leakguard/leakguard.toml), not UCI, so this tab does not use
 * form.Map: the backend (rpcd object luci.leakguard) reads the file with the daemon's own parser,
 * writes the values given here into it (comments and other keys kept), validates the result as
 * `leakguard check-config` does, writes it atomically and makes the daemon reload. A config the
 * parser refuses is never written; its error comes back with line and column.
 */

var IDENTIFIERS = [ 'mac', 'imei', 'imsi', 'iccid', 'meid', 'phone', 'serial' ];

function list(value) {
	return (value || '').split(/[\s,]+/).filter(function(s) { return s.length; });
}

function text(name, value, placeholder, size) {
	return E('input', {
		'class': 'cbi-input-text',
		'type': 'text',
		'name': name,
		'value': value != null ? value : '',
		'placeholder': placeholder || null,
		'size': size || null
	});
}

function select(name, value, choices) {
	return E('select', { 'class': 'cbi-input-select', 'name': name }, Object.keys(choices).map(function(k) {
		return E('option', { 'value': k, 'selected': (k == value) ? '' : null }, [ choices[k] ]);
	}));
}

function row(label, widget, description) {
	return E('div', { 'class': 'cbi-value' }, [
		E('label', { 'class': 'cbi-value-title' }, [ label ]),
		E('div', { 'class': 'cbi-value-field' }, [
			widget,
			description ? E('div', { 'class': 'cbi-value-description' }, [ description ]) : ''
		])
	]);
}

function tableOf(titles) {
	return E('table', { 'class': 'table cbi-section-table' }, [
		E('tr', { 'class': 'tr table-titles' }, titles.map(function(t) {
			return E('th', { 'class': 'th' }, [ t ]);
		}))
	]);
}

function removeButton() {
	return E('button', {
		'class': 'btn cbi-button cbi-button-remove',
		'title': _('Delete'),
		'click': function(ev) {
			var tr = ev.currentTarget.closest('tr');
			tr.parentNode.removeChild(tr);
		}
	}, [ _('Delete') ]);
}

function cell(title, node) {
	return E('td', { 'class': 'td', 'data-title': title }, [ node ]);
}

return view.extend({
	load: function() {
		/* Reading the config needs the write grant (it holds identifiers in the clear): a
		 * read-only login gets "Access denied" here. */
		return lg.callGetConfig().catch(function(e) {
			return { ok: false, denied: true, error: e.message };
		});
	},

	deviceRow: function(d) {
		d = d || {};
		var titles = this.deviceTitles;

		return E('tr', { 'class': 'tr leakguard-device' }, [
			cell(titles[0], text('name', d.name, _('Name'), 12))
		].concat(IDENTIFIERS.map(function(k, i) {
			return cell(titles[i + 1], text(k, (d[k] || []).join(' '), null, 12));
		})).concat([ cell('', removeButton()) ]));
	},

	allowRow: function(a) {
		a = a || {};

		return E('tr', { 'class': 'tr leakguard-allow' }, [
			cell(_('Device'), text('device', a.device || '', _('every device'), 18)),
			cell(_('Destination'), text('dst', a.dst, _('CIDR, host or *.domain'), 28)),
			cell(_('Kinds'), text('kinds', (a.kinds || []).join(' '), _('all kinds'), 28)),
			cell('', removeButton())
		]);
	},

	/* The values of the form, as the backend's set_settings takes them. */
	collect: function() {
		var root = this.nodes.form;
		var value = function(node, name) { return node.querySelector('[name="%s"]'.format(name)).value; };
		var settings = {
			mode: value(root, 'mode'),
			scope: value(root, 'scope'),
			block_timeout: value(root, 'block_timeout').trim(),
			lan_interfaces: list(value(root, 'lan_interfaces')),
			devices: [],
			allow: []
		};

		root.querySelectorAll('tr.leakguard-device').forEach(function(tr) {
			var d = { name: value(tr, 'name').trim() };
			IDENTIFIERS.forEach(function(k) { d[k] = list(value(tr, k)); });
			settings.devices.push(d);
		});

		root.querySelectorAll('tr.leakguard-allow').forEach(function(tr) {
			settings.allow.push({
				device: value(tr, 'device').trim(),
				dst: value(tr, 'dst').trim(),
				kinds: list(value(tr, 'kinds'))
			});
		});

		return settings;
	},

	/* After a save: what the backend said, and the file as it is now. */
	report: function(box, res) {
		dom.content(this.nodes.result, '');
		dom.content(this.nodes.fileResult, '');

		if (!res.ok) {
			dom.content(box, E('div', { 'class': 'alert-message error', 'id': 'leakguard-error' }, [
				E('h4', {}, [ _('Not saved: the configuration was refused') ]),
				E('p', {}, [ lg.errorText(res) ]),
				E('p', {}, [ _('Nothing was written; leakguard keeps running with the old configuration.') ])
			]));
			box.scrollIntoView();
			return;
		}

		var msg = res.reloaded
			? _('Saved. leakguard reloaded and runs in %s mode.').format(res.running_mode || res.mode)
			: _('Saved. leakguard did not reload (%s); the new configuration applies when it starts.').format(res.reload_error || '?');

		dom.content(box, E('div', { 'class': 'alert-message ' + (res.reloaded ? 'success' : 'warning'), 'id': 'leakguard-saved' }, [
			E('p', {}, [ msg ])
		]));

		return lg.callGetConfig().then(L.bind(function(cfg) {
			if (cfg.ok) {
				this.nodes.editor.value = cfg.text;
				this.nodes.form.querySelector('[name="mode"]').value = cfg.settings.mode;
				dom.content(this.nodes.banner, lg.monitorBanner(cfg.settings.mode));
			}
		}, this));
	},

	handleSave: function(ev) {
		return lg.callSetSettings(this.collect()).then(L.bind(this.report, this, this.nodes.result));
	},

	handleSaveFile: function(ev) {
		return lg.callSetConfig(this.nodes.editor.value).then(L.bind(this.report, this, this.nodes.fileResult));
	},

	handleCheckFile: function(ev) {
		return lg.callCheckConfig(this.nodes.editor.value).then(L.bind(function(res) {
			dom.content(this.nodes.result, '');
			dom.content(this.nodes.fileResult, res.ok
				? E('div', { 'class': 'alert-message success', 'id': 'leakguard-check-ok' }, [
					E('p', {}, [ _('The configuration is valid (%d device(s), %s mode).').format(res.devices, res.mode) ])
				])
				: E('div', { 'class': 'alert-message error', 'id': 'leakguard-error' }, [
					E('h4', {}, [ _('The configuration has an error') ]),
					E('p', {}, [ lg.errorText(res) ])
				]));
		}, this));
	},

	render: function(cfg) {
		/* Nothing to save without the config: no footer. */
		if (!cfg.ok)
			this.handleSave = null;

		if (cfg.denied)
			return E('div', { 'class': 'alert-message warning', 'id': 'leakguard-denied' }, [
				E('p', {}, [ _('You do not have permission to view or change the leakguard configuration.') ])
			]);

		if (!cfg.ok)
			return E('div', { 'class': 'alert-message error' }, [
				E('p', {}, [ _('The configuration cannot be read: %s').format(cfg.error || '?') ])
			]);

		var s = cfg.settings || {};

		this.deviceTitles = [ _('Name'), _('MAC'), _('IMEI'), _('IMSI'), _('ICCID'), _('MEID'), _('Phone'), _('Serial') ];

		var devices = tableOf(this.deviceTitles.concat([ '' ]));
		(s.devices || []).forEach(L.bind(function(d) { devices.appendChild(this.deviceRow(d)); }, this));

		var allow = tableOf([ _('Device'), _('Destination'), _('Kinds'), '' ]);
		(s.allow || []).forEach(L.bind(function(a) { allow.appendChild(this.allowRow(a)); }, this));

		this.nodes = {
			banner: E('div', {}, [ lg.monitorBanner(s.mode) ]),
			result: E('div', { 'id': 'leakguard-result' }),
			fileResult: E('div', { 'id': 'leakguard-file-result' }),
			editor: E('textarea', {
				'class': 'cbi-input-textarea',
				'id': 'leakguard-config-text',
				'rows': 24,
				'spellcheck': 'false',
				'style': 'width:100%; font-family:monospace'
			}, [ cfg.text ])
		};

		this.nodes.form = E('div', { 'id': 'leakguard-settings' }, [
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Blocking') ]),
				row(_('Mode'), select('mode', s.mode, {
					enforce: lg.modeName('enforce'),
					monitor: lg.modeName('monitor')
				}), _('Monitor mode reports leaks and drops nothing.')),
				row(_('Block scope'), select('scope', s.scope, {
					'device-destination': _('the device to that destination'),
					'destination': _('every device to that destination'),
					'flow': _('the leaking flow only')
				}), _('What a leak blocks, besides the packet that carried it.')),
				row(_('Block timeout'), text('block_timeout', s.block_timeout, '3600', 8), _('Seconds a block lasts.')),
				row(_('LAN interfaces'), text('lan_interfaces', (s.lan_interfaces || []).join(' '), 'br-lan', 30),
					_('Interfaces whose forwarded traffic is inspected, separated by spaces.'))
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Known devices') ]),
				E('div', { 'class': 'cbi-section-descr' }, [
					_('Identifiers you know, found however a device dresses them up. Several values are separated by spaces.')
				]),
				devices,
				E('div', { 'class': 'cbi-section-create' }, [
					E('button', {
						'class': 'btn cbi-button cbi-button-add',
						'click': L.bind(function(ev) { devices.appendChild(this.deviceRow()); }, this)
					}, [ _('Add device') ])
				])
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Allow rules') ]),
				E('div', { 'class': 'cbi-section-descr' }, [
					_('Destinations where some kinds of identifiers may go (no kinds: all of them).')
				]),
				allow,
				E('div', { 'class': 'cbi-section-create' }, [
					E('button', {
						'class': 'btn cbi-button cbi-button-add',
						'click': L.bind(function(ev) { allow.appendChild(this.allowRow()); }, this)
					}, [ _('Add rule') ])
				])
			])
		]);

		return E([], [
			E('h2', {}, [ _('leakguard') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('Settings are validated by leakguard before anything is written; the daemon then reloads.')
			]),
			this.nodes.banner,
			cfg.config_error ? E('div', { 'class': 'alert-message error' }, [
				E('p', {}, [ _('The config file has an error (%s); the settings below are the defaults. Fix it in the config file below.').format(lg.errorText(cfg.config_error)) ])
			]) : '',
			this.nodes.result,
			this.nodes.form,
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Config file') ]),
				E('div', { 'class': 'cbi-section-descr' }, [ cfg.path ]),
				this.nodes.editor,
				this.nodes.fileResult,
				E('div', { 'class': 'right' }, [
					E('button', {
						'class': 'btn cbi-button cbi-button-neutral',
						'id': 'leakguard-check-file',
						'click': ui.createHandlerFn(this, 'handleCheckFile')
					}, [ _('Check') ]), ' ',
					E('button', {
						'class': 'btn cbi-button cbi-button-save',
						'id': 'leakguard-save-file',
						'click': ui.createHandlerFn(this, 'handleSaveFile')
					}, [ _('Save file') ])
				])
			])
		]);
	},

	handleSaveApply: null,
	handleReset: null
});
