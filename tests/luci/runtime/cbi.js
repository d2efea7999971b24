/*
 * Test stand-in for LuCI's cbi.js (openwrt/luci modules/luci-base/htdocs/luci-static/resources/
 * cbi.js), written for leakguard's browser test; no upstream code. What views rely on is kept:
 * the globals _(), N_() and E(), String.prototype.format, and window.cbi_init, which luci.js
 * saves and calls before it fires `luci-loaded`.
 *
 * Known difference: LuCI's _() looks translations up in window.TR under a hash of the message
 * (and context); this one looks them up under the message itself. The server writes TR
 * accordingly.
 */
'use strict';

function _(s, c) {
	var key = (c != null ? String(c).trim() + '\u0001' : '') + String(s).trim();
	return (window.TR && Object.prototype.hasOwnProperty.call(window.TR, key)) ? window.TR[key] : s;
}

function N_(n, s, p, c) {
	return _(n == 1 ? s : p, c);
}

function E() {
	return L.dom.create.apply(L.dom, arguments);
}

/* The subset of LuCI's format() directives views use: %s %d %x %f %h %q %t %m %%, with an
 * optional precision (%.2f). */
String.prototype.format = function() {
	var args = arguments, n = 0;

	return String(this).replace(/%(?:\.(\d+))?([sdxXfhqtm%])/g, function(all, prec, conv) {
		if (conv == '%')
			return '%';

		var v = args[n++];

		switch (conv) {
		case 's': return (v == null) ? '' : String(v);
		case 'd': return String(isNaN(parseInt(v)) ? 0 : parseInt(v));
		case 'x': return (parseInt(v) || 0).toString(16);
		case 'X': return (parseInt(v) || 0).toString(16).toUpperCase();
		case 'f': return (+v || 0).toFixed(prec != null ? +prec : 6);
		case 'h':
		case 'q': return String(v == null ? '' : v).replace(/[&<>"']/g, function(c) { return '&#' + c.charCodeAt(0) + ';'; });
		case 't': {
			var s = Math.max(0, parseInt(v) || 0), out = '';
			if (s >= 86400) { out += Math.floor(s / 86400) + 'd '; s %= 86400; }
			if (s >= 3600 || out) { out += Math.floor(s / 3600) + 'h '; s %= 3600; }
			if (s >= 60 || out) { out += Math.floor(s / 60) + 'm '; s %= 60; }
			return out + s + 's';
		}
		case 'm': {
			var b = +v || 0, units = [ '', 'K', 'M', 'G', 'T' ], i = 0;
			while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
			return b.toFixed(prec != null ? +prec : 2) + ' ' + units[i];
		}
		}
	});
};

window.cbi_init = function() {
	document.querySelectorAll('[data-tooltip]').forEach(function(n) {
		n.title = n.getAttribute('data-tooltip');
	});
};
