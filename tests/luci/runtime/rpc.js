'use strict';
'require baseclass';
'require request';

/*
 * Test stand-in for LuCI's rpc.js (openwrt/luci modules/luci-base/htdocs/luci-static/resources/
 * rpc.js), written for leakguard's browser test; no upstream code. Kept from upstream:
 *  - declare({object, method, params, expect, filter, reject}) → a function whose arguments map to
 *    the named params; the call is {"jsonrpc":"2.0","id":N,"method":"call",
 *    "params":[sessionid, object, method, {args}]}, POSTed to the base URL + "/object.method"
 *    (batched with other calls of the same animation frame by LuCI.request).
 *  - The reply must be a JSON-RPC 2.0 frame; {"error":{code,message}} rejects; "result" [0,{…}]
 *    gives the object, [code] alone gives the code (rejected only with reject: true); expect's one
 *    key selects a member and its value is the default when that member is missing or of another
 *    type (Object.prototype.toString).
 *  - Interceptors see each reply frame before it is handled.
 */

var rpcRequestID = 1,
    rpcSessionID = L.env.sessionid || '00000000000000000000000000000000',
    rpcBaseURL = L.url('admin/ubus'),
    rpcInterceptorFns = [];

return baseclass.extend({
	call: function(req, cb, nobatch) {
		var q = '';

		if (Array.isArray(req)) {
			if (req.length == 0)
				return Promise.resolve([]);
			req.forEach(function(r) {
				if (r.params)
					q += '%s%s.%s'.format(q ? ';' : '/', r.params[1], r.params[2]);
			});
		}
		else if (req.params) {
			q += '/%s.%s'.format(req.params[1], req.params[2]);
		}

		return request.post(rpcBaseURL + q, req, {
			timeout: (L.env.rpctimeout || 20) * 1000,
			nobatch: nobatch,
			credentials: true
		}).then(cb, cb);
	},

	parseCallReply: function(req, res) {
		var msg = null;

		if (res instanceof Error)
			return req.reject(res);

		try {
			if (!res.ok)
				L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s',
					req.object, req.method, res.status, res.statusText || '?');
			msg = res.json();
		}
		catch (e) {
			return req.reject(e);
		}

		Promise.all(rpcInterceptorFns.map(function(fn) { return fn(msg, req); }))
			.then(this.handleCallReply.bind(this, req, msg))
			.catch(req.reject);
	},

	handleCallReply: function(req, msg) {
		var type = Object.prototype.toString, ret = null;

		try {
			if (!L.isObject(msg) || msg.jsonrpc != '2.0')
				L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);

			if (L.isObject(msg.error) && msg.error.code && msg.error.message)
				L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s',
					req.object, req.method, msg.error.code, msg.error.message || '?');
		}
		catch (e) {
			return req.reject(e);
		}

		if (!req.object && !req.method) {
			ret = msg.result;
		}
		else if (Array.isArray(msg.result)) {
			if (req.raise && msg.result[0] !== 0) {
				try {
					L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s',
						req.object, req.method, msg.result[0], this.getStatusText(msg.result[0]));
				}
				catch (e) {
					return req.reject(e);
				}
			}

			ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
		}

		if (req.expect) {
			for (var key in req.expect) {
				if (ret != null && key != '')
					ret = ret[key];

				if (ret == null || type.call(ret) != type.call(req.expect[key]))
					ret = req.expect[key];

				break;
			}
		}

		if (typeof(req.filter) == 'function') {
			req.priv[0] = ret;
			req.priv[1] = req.params;
			ret = req.filter.apply(this, req.priv);
		}

		req.resolve(ret);
	},

	list: function() {
		var msg = {
			jsonrpc: '2.0',
			id: rpcRequestID++,
			method: 'list',
			params: arguments.length ? this.varargs(arguments) : undefined
		};

		return new Promise(L.bind(function(resolve, reject) {
			this.call(msg, this.parseCallReply.bind(this, { resolve: resolve, reject: reject }));
		}, this));
	},

	declare: function(options) {
		var rpc = this;

		return function() {
			var args = Array.prototype.slice.call(arguments);

			return new Promise(function(resolve, reject) {
				var params = {}, p_off = 0;

				if (Array.isArray(options.params))
					for (p_off = 0; p_off < options.params.length; p_off++)
						params[options.params[p_off]] = args[p_off];

				var priv = [ undefined, undefined ];
				for (; p_off < args.length; p_off++)
					priv.push(args[p_off]);

				var req = {
					expect: options.expect,
					filter: options.filter,
					resolve: resolve,
					reject: reject,
					params: params,
					priv: priv,
					object: options.object,
					method: options.method,
					raise: options.reject
				};

				var msg = {
					jsonrpc: '2.0',
					id: rpcRequestID++,
					method: 'call',
					params: [ rpcSessionID, options.object, options.method, params ]
				};

				rpc.call(msg, rpc.parseCallReply.bind(rpc, req), options.nobatch);
			});
		};
	},

	getSessionID: function() { return rpcSessionID; },
	setSessionID: function(sid) { rpcSessionID = sid; },
	getBaseURL: function() { return rpcBaseURL; },
	setBaseURL: function(url) { rpcBaseURL = url; },
	getWebSocket: function() { return null; },
	setWebSocket: function() {},

	getStatusText: function(statusCode) {
		switch (statusCode) {
		case 0: return _('Command OK');
		case 1: return _('Invalid command');
		case 2: return _('Invalid argument');
		case 3: return _('Method not found');
		case 4: return _('Resource not found');
		case 5: return _('No data received');
		case 6: return _('Permission denied');
		case 7: return _('Request timeout');
		case 8: return _('Not supported');
		case 9: return _('Unspecified error');
		case 10: return _('Connection lost');
		default: return _('Unknown error code');
		}
	},

	addInterceptor: function(fn) {
		if (typeof(fn) == 'function')
			rpcInterceptorFns.push(fn);
		return fn;
	},

	removeInterceptor: function(fn) {
		var len = rpcInterceptorFns.length;
		rpcInterceptorFns = rpcInterceptorFns.filter(function(f) { return f !== fn; });
		return (rpcInterceptorFns.length < len);
	}
});
