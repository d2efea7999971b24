'use strict';
'require baseclass';
'require ui';

/*
 * Test stand-in for the bootstrap theme's menu-bootstrap.js (openwrt/luci themes/
 * luci-theme-bootstrap/htdocs/luci-static/resources/menu-bootstrap.js): draws the top menu
 * (ul.nav#topmenu, one dropdown per admin child) and the tabs of the current page's parent node
 * (ul.tabs in #tabmenu) from the menu tree, with the markup the theme uses.
 */

return baseclass.extend({
	__init__: function() {
		ui.menu.load().then(L.bind(this.render, this));
	},

	render: function(tree) {
		var node = tree, url = '';

		this.renderMainMenu(tree.children && tree.children.admin, 'admin');

		if (L.env.dispatchpath.length >= 3) {
			for (var i = 0; i < 3 && node; i++) {
				node = node.children[L.env.dispatchpath[i]];
				url = url + (url ? '/' : '') + L.env.dispatchpath[i];
			}

			if (node)
				this.renderTabMenu(node, url);
		}
	},

	renderTabMenu: function(tree, url) {
		var container = document.querySelector('#tabmenu');
		var children = ui.menu.getChildren(tree);

		if (!children.length || !container)
			return;

		var ul = E('ul', { 'class': 'tabs' });
		var active = L.env.dispatchpath[3];

		children.forEach(function(child) {
			var isActive = (active == child.name);
			ul.appendChild(E('li', { 'class': 'tabmenu-item-%s %s'.format(child.name, isActive ? 'active' : '') }, [
				E('a', { 'href': L.url(url, child.name) }, [ _(child.title) ])
			]));
		});

		container.appendChild(ul);
		container.style.display = '';
	},

	renderMainMenu: function(tree, url) {
		var ul = document.querySelector('#topmenu');

		if (!tree || !ul)
			return;

		ui.menu.getChildren(tree).forEach(function(child) {
			var items = ui.menu.getChildren(child);
			var sub = E('ul', { 'class': 'dropdown-menu' }, items.map(function(item) {
				return E('li', {}, [ E('a', { 'href': L.url(url, child.name, item.name) }, [ _(item.title) ]) ]);
			}));

			ul.appendChild(E('li', { 'class': 'dropdown' }, [
				E('a', { 'class': 'menu', 'href': '#' }, [ _(child.title) ]),
				sub
			]));
		});

		ul.style.display = '';
	}
});
