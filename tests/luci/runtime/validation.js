'use strict';
'require baseclass';

/* Test stand-in for LuCI's validation.js: required by ui.js; leakguard's views do not use it. */

return baseclass.extend({});
