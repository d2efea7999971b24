'use strict';
'require validation';
'require baseclass';
'require request';
'require session';
'require poll';
'require dom';
'require rpc';
'require uci';
'require fs';

/*
 * Test stand-in for LuCI's ui.js (openwrt/luci modules/luci-base/htdocs/luci-static/resources/
 * ui.js), written for leakguard's browser test; no upstream code. The parts a view of leakguard
 * uses, drawn with the markup upstream draws: addNotification (div.alert-message with a Dismiss
 * button, put first in #maincontent), showModal/hideModal (#modal_overlay > .modal),
 * showIndicator/hideIndicator (#indicators), createHandlerFn (the button spins and is disabled
 * until the handler's promise settles), instantiateView ('a/b' → class view.a.b), menu.load
 * (GET {scriptname}/admin/menu; unsatisfied nodes and firstchild nodes without children are
 * hidden, children sorted by order) and changes.init (uci changes, once LuCI is loaded).
 */

var UIMenu = baseclass.singleton({
	load: function() {
		if (!this.menu)
			this.menu = session.getLocalData('menu');

		if (!L.isObject(this.menu)) {
			this.menu = request.get(L.url('admin/menu')).then(L.bind(function(res) {
				this.menu = this.scrub(res.json());
				session.setLocalData('menu', this.menu);
				return this.menu;
			}, this));
		}

		return Promise.resolve(this.menu);
	},

	scrub: function(node) {
		var hasSatisfiedChild = false;

		if (L.isObject(node.children)) {
			for (var k in node.children) {
				var child = this.scrub(node.children[k]);
				if (child.title && !child.firstchild_ineligible)
					hasSatisfiedChild = hasSatisfiedChild || child.satisfied;
			}
		}

		if (L.isObject(node.action) && node.action.type == 'firstchild' && !hasSatisfiedChild)
			node.satisfied = false;

		return node;
	},

	getChildren: function(node) {
		var children = [];

		node = node || this.menu;

		for (var k in (node && node.children) || {})
			if (node.children[k].satisfied && node.children[k].title)
				children.push(Object.assign(node.children[k], { name: k }));

		return children.sort(function(a, b) {
			return ((a.order || 1000) - (b.order || 1000)) || a.name.localeCompare(b.name);
		});
	}
});

var UIChanges = baseclass.singleton({
	init: function() {
		return uci.changes().then(L.bind(this.renderChangeIndicator, this));
	},

	renderChangeIndicator: function(changes) {
		var n = 0;
		for (var config in changes)
			n += changes[config].length;

		if (n > 0)
			UI.prototype.showIndicator('uci-changes', '%s: %d'.format(_('Unsaved Changes'), n));
		else
			UI.prototype.hideIndicator('uci-changes');
	},

	apply: function() {
		return Promise.resolve();
	}
});

var UI = baseclass.extend({
	__init__: function() {
		document.addEventListener('poll-start', function() {
			UI.prototype.showIndicator('poll-status', _('Refreshing'), function(ev) {
				poll.active() ? poll.stop() : poll.start();
			});
		});

		document.addEventListener('poll-stop', function() {
			UI.prototype.showIndicator('poll-status', _('Paused'), null, 'inactive');
		});

		document.addEventListener('luci-loaded', function() {
			UIChanges.init();
		});
	},

	menu: UIMenu,
	changes: UIChanges,

	addNotification: function(title, children) {
		var mc = document.querySelector('#maincontent') || document.body;
		var msg = E('div', { 'class': 'alert-message fade-in', 'style': 'display:flex' }, [
			E('div', { 'style': 'flex:10' }),
			E('div', { 'style': 'flex:1 1 auto; display:flex' }, [
				E('button', {
					'class': 'btn',
					'style': 'margin-left:auto; margin-top:auto',
					'click': function(ev) {
						var n = dom.parent(ev.target, '.alert-message');
						n.parentNode.removeChild(n);
					}
				}, [ _('Dismiss') ])
			])
		]);

		if (title != null)
			dom.append(msg.firstElementChild, E('h4', {}, title));

		dom.append(msg.firstElementChild, children);

		for (var i = 2; i < arguments.length; i++)
			msg.classList.add(arguments[i]);

		mc.insertBefore(msg, mc.firstElementChild);

		return msg;
	},

	showModal: function(title, children) {
		var dlg = document.querySelector('#modal_overlay > .modal');

		if (!dlg) {
			var overlay = E('div', { 'id': 'modal_overlay' }, [ E('div', { 'class': 'modal', 'role': 'dialog', 'aria-modal': true }) ]);
			document.body.appendChild(overlay);
			dlg = overlay.firstElementChild;
		}

		dom.content(dlg, null);

		if (title)
			dlg.appendChild(E('h4', {}, [ title ]));

		dom.append(dlg, children);
		document.body.classList.add('modal-overlay-active');

		return dlg;
	},

	hideModal: function() {
		document.body.classList.remove('modal-overlay-active');
	},

	showIndicator: function(id, label, handler, style) {
		var indicators = document.querySelector('#indicators');

		if (!indicators)
			return false;

		var span = indicators.querySelector('span[data-indicator="%s"]'.format(id)) ||
			indicators.appendChild(E('span', {
				'data-indicator': id,
				'data-clickable': handler ? true : null,
				'click': handler
			}));

		span.setAttribute('data-style', style == 'inactive' ? 'inactive' : 'active');
		dom.content(span, [ label ]);

		return true;
	},

	hideIndicator: function(id) {
		var span = document.querySelector('#indicators span[data-indicator="%s"]'.format(id));
		if (span)
			span.parentNode.removeChild(span);
		return !!span;
	},

	createHandlerFn: function(ctx, fn) {
		if (typeof(fn) == 'string')
			fn = ctx[fn];

		if (typeof(fn) != 'function')
			return null;

		var bound = Array.prototype.slice.call(arguments, 2);
		var arg_offset = bound.length;

		return function() {
			var args = bound.concat(Array.prototype.slice.call(arguments));
			var t = args[arg_offset].currentTarget;

			t.classList.add('spinning');
			t.disabled = true;

			if (t.blur)
				t.blur();

			Promise.resolve(fn.apply(ctx, args)).finally(function() {
				t.classList.remove('spinning');
				t.disabled = false;
			});
		};
	},

	instantiateView: function(path) {
		var className = 'view.%s'.format(path.replace(/\//g, '.'));

		return L.require(className).then(function(view) {
			if (!(view instanceof L.view))
				throw new TypeError('Loaded class %s is not a descendant of View'.format(className));
			return view;
		}).catch(function(err) {
			dom.content(document.querySelector('#view'), null);
			L.error(err);
		});
	}
});

return UI;
