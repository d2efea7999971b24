'use strict';
'require rpc';
'require request';
'require baseclass';

/* Test stand-in for LuCI's fs.js: required by ui.js; leakguard's views do not use it (their
 * backend is the rpcd object luci.leakguard, not file reads or command execution). */

return baseclass.extend({});
