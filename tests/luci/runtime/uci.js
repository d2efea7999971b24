'use strict';
'require rpc';
'require baseclass';

/*
 * Test stand-in for LuCI's uci.js (openwrt/luci modules/luci-base/htdocs/luci-static/resources/
 * uci.js): only what the start of every page asks, `uci get` of a package and `uci changes`.
 */

var callLoad = rpc.declare({
	object: 'uci',
	method: 'get',
	params: [ 'config' ],
	expect: { values: { } }
});

var callChanges = rpc.declare({
	object: 'uci',
	method: 'changes',
	expect: { changes: { } }
});

return baseclass.extend({
	__init__: function() {
		this.state = { values: {} };
	},

	load: function(packages) {
		var self = this;
		packages = Array.isArray(packages) ? packages : [ packages ];

		return Promise.all(packages.map(function(p) {
			return callLoad(p).then(function(values) { self.state.values[p] = values; return p; });
		}));
	},

	get: function(conf, sid, opt) {
		var s = (this.state.values[conf] || {})[sid];
		return (opt == null) ? s : (s ? s[opt] : null);
	},

	changes: function() {
		return callChanges();
	}
});
