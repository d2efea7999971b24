'use strict';
'require ui';
'require uci';
'require rpc';
'require dom';
'require baseclass';

/*
 * Test stand-in for LuCI's form.js (openwrt/luci modules/luci-base/htdocs/luci-static/resources/
 * form.js). luci.js loads it on every page, and loading it reads the `luci` config (uci get).
 * leakguard's views build no form.Map (their config is TOML, edited through the app's own rpcd
 * object), so nothing of the form classes is reproduced here.
 */

uci.load('luci').catch(function(e) { console.debug(e); });

return baseclass.extend({});
