/*
 * Test stand-in for LuCI's client runtime, luci.js (openwrt/luci modules/luci-base/htdocs/
 * luci-static/resources/luci.js), written for leakguard's browser test from what upstream does;
 * no upstream code. It keeps what a view sees and what the server is asked:
 *
 *  - `new LuCI(env)` finds its base URL from the `script[src*="/luci.js"]` tag (else it fails
 *    with "Cannot find url of luci.js"), probes `env.ubuspath` with a `list` call (HTTP 200 →
 *    RPC goes there, else to `{scriptname}/admin/ubus`), loads rpc, asks `luci getFeatures`
 *    and `file list` of the preload directory, then ui and form; once the DOM is ready it calls
 *    the cbi_init that cbi.js defined and fires `luci-loaded`.
 *  - Class files are fetched from `{base_url}/{name with . → /}.js?v={resource_version}`; their
 *    leading `'require x [as y]'` strings name what the factory
 *    `function(window, document, L, ...)` receives; the class it returns is instantiated once.
 *  - Built-in classes: baseclass, dom, poll, request, session, view.
 *  - POSTs of JSON-RPC made in the same animation frame go out as one JSON array; every request
 *    without `cache: true` gets `?<timestamp>` appended.
 *  - View: load() → render() → content of #view, then the footer (Save & Apply / Save / Reset for
 *    the handlers that are not null; disabled when the node is read-only).
 *  - Poll: a 1 s tick; a function added with interval N runs every N ticks, never twice at once.
 */
(function(window, document) {
	'use strict';

	var env = {};
	var classes = {};
	var classIndex = 0;

	/* --- baseclass --- */

	function Class() {}

	Class.extend = function(properties) {
		var Parent = this;
		var Ctor = function() {
			if (!(this instanceof Ctor))
				throw new TypeError('Constructor must not be called without "new"');

			if (typeof(this.__init__) == 'function')
				this.__init__.apply(this, arguments);
		};

		Ctor.prototype = Object.create(Parent.prototype);
		Object.defineProperty(Ctor.prototype, 'constructor', { value: Ctor, writable: true, configurable: true });

		for (var key in properties) {
			if (!Object.prototype.hasOwnProperty.call(properties, key))
				continue;
			var desc = Object.getOwnPropertyDescriptor(properties, key);
			desc.enumerable = false;
			Object.defineProperty(Ctor.prototype, key, desc);
		}

		Object.defineProperty(Ctor.prototype, '__id__', { value: classIndex++ });
		Object.defineProperty(Ctor.prototype, '__base__', { value: Parent.prototype });

		Ctor.extend = Class.extend;
		Ctor.singleton = Class.singleton;
		Ctor.instantiate = Class.instantiate;
		Ctor.isSubclass = Class.isSubclass;
		Ctor.displayName = 'AnonymousClass';

		return Ctor;
	};

	Class.singleton = function(properties) {
		var args = Array.prototype.slice.call(arguments, 1);
		return Class.extend.call(this, properties).instantiate(args);
	};

	Class.instantiate = function(args) {
		return new (Function.prototype.bind.apply(this, [ null ].concat(args || [])))();
	};

	Class.isSubclass = function(C) {
		return (typeof(C) == 'function' && C.prototype instanceof Class);
	};

	Class.prototype.varargs = function(args, offset) {
		return Array.prototype.slice.call(arguments, 2).concat(Array.prototype.slice.call(args, offset));
	};

	Class.prototype.super = function(key, callArgs) {
		var proto = Object.getPrototypeOf(Object.getPrototypeOf(this));

		for (var p = this.__base__; p != null; p = Object.getPrototypeOf(p))
			if (Object.prototype.hasOwnProperty.call(p, key)) { proto = p; break; }

		if (key == null)
			return proto;

		var value = proto ? proto[key] : undefined;

		if (arguments.length < 2)
			return value;

		if (typeof(value) != 'function')
			throw new ReferenceError(key + ' is not a function in base class');

		return value.apply(this, Array.isArray(callArgs) || callArgs == null ? callArgs || [] : Array.prototype.slice.call(callArgs));
	};

	/* --- dom --- */

	var DOM = Class.singleton({
		__name__: 'LuCI.dom',
		registry: {},

		elem: function(e) {
			return (e != null && typeof(e) == 'object' && 'nodeType' in e);
		},

		parse: function(s) {
			try { return new DOMParser().parseFromString(s, 'text/html').body.firstChild; }
			catch (e) { return null; }
		},

		matches: function(node, selector) {
			return this.elem(node) && node.matches ? node.matches(selector) : false;
		},

		parent: function(node, selector) {
			return (this.elem(node) && node.closest) ? node.closest(selector) : null;
		},

		/* Arrays: nodes appended, other values as text nodes. A single non-node value: innerHTML
		 * (as upstream: a view that passes markup in a plain string gets markup). */
		append: function(node, children) {
			if (!this.elem(node))
				return null;

			if (Array.isArray(children)) {
				for (var i = 0; i < children.length; i++)
					if (this.elem(children[i]))
						node.appendChild(children[i]);
					else if (children !== null && children !== undefined)
						node.appendChild(document.createTextNode('' + children[i]));

				return node.lastChild;
			}
			else if (typeof(children) == 'function') {
				return this.append(node, children(node));
			}
			else if (this.elem(children)) {
				return node.appendChild(children);
			}
			else if (children !== null && children !== undefined) {
				node.innerHTML = '' + children;
				return node.lastChild;
			}

			return null;
		},

		content: function(node, children) {
			if (!this.elem(node))
				return null;

			node.querySelectorAll('[data-idref]').forEach(function(n) {
				delete DOM.registry[n.getAttribute('data-idref')];
			});

			while (node.firstChild)
				node.removeChild(node.firstChild);

			return this.append(node, children);
		},

		attr: function(node, key, val) {
			if (!this.elem(node))
				return null;

			var attr = null;

			if (typeof(key) == 'object' && key !== null)
				attr = key;
			else if (typeof(key) == 'string')
				attr = {}, attr[key] = val;

			for (key in attr) {
				if (!Object.prototype.hasOwnProperty.call(attr, key) || attr[key] == null)
					continue;

				if (typeof(attr[key]) == 'function')
					node.addEventListener(key, attr[key]);
				else if (typeof(attr[key]) == 'object')
					node.setAttribute(key, JSON.stringify(attr[key]));
				else
					node.setAttribute(key, attr[key]);
			}
		},

		create: function() {
			var html = arguments[0], attr = arguments[1], data = arguments[2], elem;

			if (!(attr instanceof Object) || Array.isArray(attr))
				data = attr, attr = null;

			if (Array.isArray(html)) {
				elem = document.createDocumentFragment();
				for (var i = 0; i < html.length; i++)
					elem.appendChild(this.create(html[i]));
			}
			else if (this.elem(html)) {
				elem = html;
			}
			else if (html.charCodeAt(0) === 60) {
				elem = this.parse(html);
			}
			else {
				elem = document.createElement(html);
			}

			if (!elem)
				return null;

			this.attr(elem, attr);
			this.append(elem, data);

			return elem;
		},

		data: function(node, key, val) {
			if (!node || !node.getAttribute)
				return null;

			var id = node.getAttribute('data-idref');

			if (arguments.length > 1 && key == null) {
				if (id == null)
					return null;
				node.removeAttribute('data-idref');
				val = this.registry[id];
				delete this.registry[id];
				return val;
			}

			if (arguments.length > 2 && val == null) {
				if (id == null)
					return null;
				val = this.registry[id][key];
				delete this.registry[id][key];
				return val;
			}

			if (arguments.length > 2) {
				if (id == null) {
					do { id = Math.floor(Math.random() * 0xffffffff).toString(16); }
					while (Object.prototype.hasOwnProperty.call(this.registry, id));
					node.setAttribute('data-idref', id);
					this.registry[id] = {};
				}
				return (this.registry[id][key] = val);
			}

			if (arguments.length == 1)
				return (id != null) ? this.registry[id] : null;

			return (id != null && this.registry[id]) ? this.registry[id][key] : null;
		},

		bindClassInstance: function(node, inst) {
			if (!(inst instanceof Class))
				LuCI.prototype.error('TypeError', 'Argument must be a class instance');
			return this.data(node, '_class', inst);
		},

		findClassInstance: function(node) {
			var inst = null;
			do {
				inst = this.data(node, '_class');
				node = node.parentNode;
			}
			while (!(inst instanceof Class) && node != null);
			return inst;
		},

		callClassMethod: function(node, method) {
			var inst = this.findClassInstance(node);
			if (!inst || typeof(inst[method]) != 'function')
				return null;
			return inst[method].apply(inst, Array.prototype.slice.call(arguments, 2));
		},

		isEmpty: function(node, ignoreFn) {
			for (var c = node ? node.firstElementChild : null; c != null; c = c.nextElementSibling)
				if (!c.classList.contains('hidden') && !(ignoreFn && ignoreFn(c)))
					return false;
			return true;
		}
	});

	/* --- request --- */

	function Response(target, status, statusText, headers, body, duration) {
		this.ok = (status >= 200 && status <= 299);
		this.status = status;
		this.statusText = statusText;
		this.headers = headers;
		this.duration = duration;
		this.url = target;
		this._body = body;
	}

	Response.prototype.text = function() { return this._body; };
	Response.prototype.json = function() { return JSON.parse(this._body); };
	Response.prototype.clone = function(body) {
		return new Response(this.url, this.status, this.statusText, this.headers,
			(body !== undefined) ? (typeof(body) == 'string' ? body : JSON.stringify(body)) : this._body, this.duration);
	};

	var requestQueue = [];

	function send(url, method, body, contentType, timeout) {
		var start = Date.now();
		var ctl = new AbortController();
		var timer = timeout ? setTimeout(function() { ctl.abort(); }, timeout) : null;
		var headers = {};

		if (contentType)
			headers['Content-Type'] = contentType;

		return fetch(url, { method: method, body: body, headers: headers, credentials: 'same-origin', signal: ctl.signal })
			.then(function(res) {
				return res.text().then(function(text) {
					if (timer) clearTimeout(timer);
					return new Response(url, res.status, res.statusText, res.headers, text, Date.now() - start);
				});
			}, function(err) {
				if (timer) clearTimeout(timer);
				throw new Error('XHR request aborted by browser: ' + err.message);
			});
	}

	function withTimestamp(url, cache) {
		return cache ? url : url + (url.indexOf('?') == -1 ? '?' : '&') + Date.now();
	}

	/* One POST for all JSON-RPC requests queued in this animation frame. */
	function flushRequestQueue() {
		var queue = requestQueue;
		requestQueue = [];

		if (!queue.length)
			return;

		var batch = queue.map(function(q) { return q.content; });
		var url = queue[0].url;

		/* rpc.js names each call in the URL (/ubus/object.method); a batch names them all, as
		 * rpc.js does for an array: /ubus/a.b;c.d */
		if (queue.length > 1) {
			var base = url.replace(/\/[^\/]*$/, '');
			url = base + '/' + queue.map(function(q) { return q.url.replace(/^.*\//, ''); }).join(';');
		}

		send(withTimestamp(url, false), 'POST', JSON.stringify(queue.length == 1 ? batch[0] : batch),
			'application/json', queue[0].timeout).then(function(res) {
			var replies = null;
			try { replies = res.json(); } catch (e) {}

			queue.forEach(function(q, i) {
				if (queue.length == 1)
					q.resolve(res);
				else if (Array.isArray(replies) && i < replies.length)
					q.resolve(res.clone(replies[i]));
				else
					q.resolve(res.clone('null'));
			});
		}, function(err) {
			queue.forEach(function(q) { q.reject(err); });
		});
	}

	var Request = Class.singleton({
		__name__: 'LuCI.request',

		expandURL: function(url) {
			if (!/^(?:[^/]+:)?\/\//.test(url))
				url = location.protocol + '//' + location.host + url;
			return url;
		},

		request: function(target, options) {
			options = options || {};

			var method = options.method || 'GET';
			var url = this.expandURL(target);
			var content = options.content;

			if (options.query) {
				var q = Object.keys(options.query).map(function(k) {
					return encodeURIComponent(k) + '=' + encodeURIComponent(options.query[k]);
				}).join('&');
				if (q && method == 'GET')
					url += (url.indexOf('?') == -1 ? '?' : '&') + q;
				else if (q && content == null)
					content = q;
			}

			if (method == 'POST' && content != null && typeof(content) == 'object' &&
			    !(content instanceof FormData) && !options.nobatch &&
			    (Array.isArray(content) ? false : content.jsonrpc == '2.0')) {
				return new Promise(function(resolve, reject) {
					requestQueue.push({ url: url, content: content, resolve: resolve, reject: reject, timeout: options.timeout });
					if (requestQueue.length == 1)
						window.requestAnimationFrame(flushRequestQueue);
				});
			}

			var body = null, type = null;

			if (content instanceof FormData)
				body = content;
			else if (content != null && typeof(content) == 'object')
				body = JSON.stringify(content), type = 'application/json';
			else if (content != null)
				body = '' + content, type = 'application/x-www-form-urlencoded';

			return send(withTimestamp(url, options.cache), method, body, type, options.timeout);
		},

		get: function(url, options) {
			return this.request(url, Object.assign({ method: 'GET' }, options));
		},

		post: function(url, data, options) {
			return this.request(url, Object.assign({ method: 'POST', content: data }, options));
		}
	});

	/* --- poll --- */

	var Poll = Class.singleton({
		__name__: 'LuCI.poll',
		queue: [],

		add: function(fn, interval) {
			if (interval == null || interval <= 0)
				interval = env.pollinterval || 5;

			if (typeof(fn) != 'function')
				throw new TypeError('Invalid argument to LuCI.poll.add()');

			for (var i = 0; i < this.queue.length; i++)
				if (this.queue[i].fn === fn)
					return false;

			var e = { r: true, i: interval, fn: fn };

			if (this.queue.push(e) == 1 && L.loaded)
				this.start();

			return true;
		},

		remove: function(fn) {
			var len = this.queue.length;
			this.queue = this.queue.filter(function(e) { return e.fn !== fn; });
			if (!this.queue.length && this.stop())
				this.tick = 0;
			return (this.queue.length != len);
		},

		start: function() {
			if (this.active())
				return false;

			this.tick = 0;

			if (this.queue.length) {
				this.timer = window.setInterval(this.step, 1000);
				this.step();
				document.dispatchEvent(new CustomEvent('poll-start'));
			}

			return true;
		},

		stop: function() {
			if (!this.active())
				return false;

			document.dispatchEvent(new CustomEvent('poll-stop'));
			window.clearInterval(this.timer);
			delete this.timer;
			delete this.tick;
			return true;
		},

		step: function() {
			for (var i = 0, e; (e = Poll.queue[i]) != null; i++) {
				if ((Poll.tick % e.i) != 0 || !e.r)
					continue;

				e.r = false;
				Promise.resolve(e.fn()).finally((function() { this.r = true; }).bind(e));
			}

			Poll.tick = (Poll.tick + 1) % Math.pow(2, 32);
		},

		active: function() {
			return (this.timer != null);
		}
	});

	/* --- session --- */

	var Session = Class.singleton({
		__name__: 'LuCI.session',

		getID: function() { return env.sessionid || '00000000000000000000000000000000'; },
		getToken: function() { return env.token || null; },

		getLocalData: function(key) {
			try {
				var sid = this.getID(), data = JSON.parse(window.sessionStorage.getItem('luci-session-store'));
				if (!data || typeof(data) != 'object' || !Object.prototype.hasOwnProperty.call(data, sid))
					data = {}, data[sid] = {};
				if (key != null)
					return Object.prototype.hasOwnProperty.call(data[sid], key) ? data[sid][key] : null;
				return data[sid];
			}
			catch (e) {
				return (key != null) ? null : {};
			}
		},

		setLocalData: function(key, value) {
			if (key == null)
				return false;
			try {
				var sid = this.getID(), data = JSON.parse(window.sessionStorage.getItem('luci-session-store'));
				if (!data || typeof(data) != 'object' || !Object.prototype.hasOwnProperty.call(data, sid))
					data = {}, data[sid] = {};
				if (value != null)
					data[sid][key] = value;
				else
					delete data[sid][key];
				window.sessionStorage.setItem('luci-session-store', JSON.stringify(data));
				return true;
			}
			catch (e) {
				return false;
			}
		}
	});

	/* --- view --- */

	var awaitInit = null;
	var awaitRpc = null;

	var View = Class.extend({
		__name__: 'LuCI.view',

		__init__: function() {
			var vp = document.getElementById('view');

			DOM.content(vp, E('div', { 'class': 'spinning' }, _('Loading view…')));

			var ready = L.loaded ? Promise.resolve() : new Promise(function(resolve) {
				document.addEventListener('luci-loaded', resolve, { once: true });
			});

			return ready
				.then(function() { return awaitInit; })
				.then(LuCI.prototype.bind(this.load, this))
				.then(LuCI.prototype.bind(this.render, this))
				.then(LuCI.prototype.bind(function(nodes) {
					var vp = document.getElementById('view');
					DOM.content(vp, nodes);
					DOM.append(vp, this.addFooter());
				}, this)).catch(LuCI.prototype.error);
		},

		load: function() {},
		render: function() {},

		handleSave: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'save'));
			});
			return Promise.all(tasks);
		},

		handleSaveApply: function(ev, mode) {
			return this.handleSave(ev).then(function() {
				classes.ui.changes.apply(mode == '0');
			});
		},

		handleReset: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'reset'));
			});
			return Promise.all(tasks);
		},

		addFooter: function() {
			var footer = E([]);
			var vp = document.getElementById('view');
			var hasmap = false, readonly = true;

			vp.querySelectorAll('.cbi-map').forEach(function(map) {
				var m = DOM.findClassInstance(map);
				if (m) {
					hasmap = true;
					if (!m.readonly)
						readonly = false;
				}
			});

			if (!hasmap)
				readonly = !LuCI.prototype.hasViewPermission();

			var ui = classes.ui;
			var saveApplyBtn = this.handleSaveApply ? E('button', {
				'class': 'btn cbi-button cbi-button-apply important',
				'click': ui.createHandlerFn(this, 'handleSaveApply', '0'),
				'disabled': readonly || null
			}, [ _('Save & Apply') ]) : E([]);

			if (this.handleSaveApply || this.handleSave || this.handleReset) {
				footer.appendChild(E('div', { 'class': 'cbi-page-actions' }, [
					saveApplyBtn, ' ',
					this.handleSave ? E('button', {
						'class': 'cbi-button cbi-button-save',
						'click': ui.createHandlerFn(this, 'handleSave'),
						'disabled': readonly || null
					}, [ _('Save') ]) : '', ' ',
					this.handleReset ? E('button', {
						'class': 'cbi-button cbi-button-reset',
						'click': ui.createHandlerFn(this, 'handleReset'),
						'disabled': readonly || null
					}, [ _('Reset') ]) : ''
				]));
			}

			return footer;
		}
	});

	classes.baseclass = Class;
	classes.dom = DOM;
	classes.poll = Poll;
	classes.request = Request;
	classes.session = Session;
	classes.view = View;

	/* --- LuCI --- */

	var rpcBaseURL = null, sysFeatures = null, preloadClasses = null, originalCBIInit = null;

	var LuCI = Class.extend({
		__name__: 'LuCI',

		__init__: function(setenv) {
			document.querySelectorAll('script[src*="/luci.js"]').forEach(function(s) {
				if (setenv.base_url == null || setenv.base_url == '') {
					var m = (s.getAttribute('src') || '').match(/^(.*)\/luci\.js(?:\?v=([^?]+))?$/);
					if (m) {
						setenv.base_url = m[1];
						setenv.resource_version = m[2];
					}
				}
			});

			if (setenv.base_url == null)
				this.error('InternalError', 'Cannot find url of luci.js');

			setenv.cgi_base = setenv.scriptname.replace(/\/[^\/]+$/, '');

			Object.assign(env, setenv);

			var self = this;
			var domReady = new Promise(function(resolve) {
				if (document.readyState != 'loading')
					resolve();
				else
					document.addEventListener('DOMContentLoaded', resolve);
			});

			awaitRpc = Promise.all([ this.probeRPCBaseURL(), this.require('rpc') ]).then(function(r) {
				r[1].setBaseURL(r[0]);
				return Promise.all([ self.probeSystemFeatures(r[1]), r[1] ]);
			});

			awaitInit = awaitRpc.then(function(r) {
				return Promise.all([ domReady, self.require('ui'), self.require('form') ])
					.then(self.setupDOM.bind(self)).catch(self.error);
			});

			originalCBIInit = window.cbi_init;
			window.cbi_init = function() {};
		},

		raise: function(type, fmt) {
			var msg = fmt ? String.prototype.format.apply(fmt, Array.prototype.slice.call(arguments, 2)) : null;
			var e;

			if (type instanceof Error) {
				e = type;
				if (msg)
					e.message = msg + ': ' + e.message;
			}
			else {
				e = new (window[type || 'Error'] || Error)(msg || 'Unspecified error');
				e.name = type || 'Error';
			}

			if (window.console && console.debug)
				console.debug(e);

			throw e;
		},

		error: function(type, fmt) {
			try {
				LuCI.prototype.raise.apply(LuCI.prototype, Array.prototype.slice.call(arguments));
			}
			catch (e) {
				if (!e.reported) {
					if (classes.ui && classes.ui.addNotification)
						classes.ui.addNotification(e.name || _('Runtime error'), E('pre', {}, [ e.message ]), 'danger');
					else
						DOM.content(document.querySelector('#maincontent'), E('pre', { 'class': 'alert-message error' }, [ e.message ]));
					e.reported = true;
				}
				throw e;
			}
		},

		bind: function(fn, self) {
			return Function.prototype.bind.apply(fn, [ self ].concat(Array.prototype.slice.call(arguments, 2)));
		},

		require: function(name, from) {
			var L = this;
			from = from || [];

			if (classes[name] != null) {
				if (from.indexOf(name) != -1)
					LuCI.prototype.raise('DependencyError', 'Circular dependency: class "%s" depends on "%s"',
						name, from.join('" which depends on "'));
				return Promise.resolve(classes[name]);
			}

			var url = '%s/%s.js%s'.format(env.base_url, name.replace(/\./g, '/'),
				env.resource_version ? '?v=' + env.resource_version : '');
			from = [ name ].concat(from);

			var compileClass = function(res) {
				if (!res.ok)
					LuCI.prototype.raise('NetworkError', 'HTTP error %d while loading class file "%s"', res.status, url);

				var source = res.text();
				var requirematch = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/;
				var strictmatch = /^use[ \t]+strict$/;
				var depends = [], args = '';

				/* The leading string statements: 'use strict' and 'require …'; comments skipped. */
				for (var i = 0, off = -1, prev = -1, quote = -1, comment = -1, esc = false; i < source.length; i++) {
					var chr = source.charCodeAt(i);

					if (esc) {
						esc = false;
					}
					else if (comment != -1) {
						if ((comment == 47 && chr == 10) || (comment == 42 && prev == 42 && chr == 47))
							comment = -1;
					}
					else if ((chr == 42 || chr == 47) && prev == 47) {
						comment = chr;
					}
					else if (chr == 92) {
						esc = true;
					}
					else if (chr == quote) {
						var s = source.substring(off, i), m = requirematch.exec(s);

						if (m) {
							var dep = m[1], as = m[2] || dep.replace(/[^a-zA-Z0-9_]/g, '_');
							depends.push(LuCI.prototype.require(dep, from));
							args += ', ' + as;
						}
						else if (!strictmatch.exec(s)) {
							break;
						}

						off = -1;
						quote = -1;
					}
					else if (quote == -1 && (chr == 34 || chr == 39)) {
						off = i + 1;
						quote = chr;
					}

					prev = chr;
				}

				return Promise.all(depends).then(function(instances) {
					var factory, klass;

					try {
						factory = eval('(function(window, document, L%s) { %s })\n\n//# sourceURL=%s\n'.format(args, source, res.url));
					}
					catch (error) {
						LuCI.prototype.raise('SyntaxError', '%s\n  in %s', error.message, res.url);
					}

					klass = factory.apply(factory, [ window, document, L ].concat(instances));

					if (!Class.isSubclass(klass))
						LuCI.prototype.error('TypeError', '"%s" factory yields invalid constructor', name);

					var ptr = Object.getPrototypeOf(L), idx = 0, parts = name.split(/\./);
					var instance = new klass();

					while (ptr && idx < parts.length - 1)
						ptr = ptr[parts[idx++]];

					if (ptr)
						ptr[parts[idx]] = instance;

					classes[name] = instance;

					return instance;
				});
			};

			if (name != 'rpc')
				classes[name] = awaitRpc.then(function() {
					return Request.get(url, { cache: true }).then(compileClass);
				});
			else
				classes[name] = Request.get(url, { cache: true }).then(compileClass);

			return classes[name];
		},

		probeRPCBaseURL: function() {
			if (rpcBaseURL == null)
				rpcBaseURL = Session.getLocalData('rpcBaseURL');

			if (rpcBaseURL == null) {
				var msg = { jsonrpc: '2.0', id: 'init', method: 'list', params: undefined };
				var fallback = this.url('admin/ubus');

				rpcBaseURL = Request.post(env.ubuspath, msg, { nobatch: true }).then(function(res) {
					return (res.status == 200) ? env.ubuspath : fallback;
				}, function() {
					return fallback;
				}).then(function(url) {
					Session.setLocalData('rpcBaseURL', url);
					return url;
				});
			}

			return Promise.resolve(rpcBaseURL);
		},

		probeSystemFeatures: function(rpcClass) {
			if (sysFeatures == null)
				sysFeatures = Session.getLocalData('features');

			if (!this.isObject(sysFeatures)) {
				sysFeatures = rpcClass.declare({ object: 'luci', method: 'getFeatures', expect: { '': {} } })().then(function(features) {
					Session.setLocalData('features', features);
					sysFeatures = features;
					return features;
				});
			}

			return Promise.resolve(sysFeatures);
		},

		probePreloadClasses: function(rpcClass) {
			if (preloadClasses == null)
				preloadClasses = Session.getLocalData('preload');

			if (!Array.isArray(preloadClasses)) {
				preloadClasses = this.resolveDefault(rpcClass.declare({
					object: 'file', method: 'list', params: [ 'path' ], expect: { 'entries': [] }
				})(this.fspath(this.resource('preload'))), []).then(function(entries) {
					var list = [];
					for (var i = 0; i < entries.length; i++) {
						var m = (entries[i].type == 'file') ? entries[i].name.match(/(.+)\.js$/) : null;
						if (m)
							list.push('preload.%s'.format(m[1]));
					}
					Session.setLocalData('preload', list);
					preloadClasses = list;
					return list;
				});
			}

			return Promise.resolve(preloadClasses);
		},

		hasSystemFeature: function(feature, subfeature) {
			var ft = this.isObject(sysFeatures) ? sysFeatures[feature] : null;
			if (subfeature)
				return (this.isObject(ft) && ft[subfeature] != null);
			return (ft != null && ft !== false);
		},

		setupDOM: function(res) {
			var ui = res[1];
			var self = this;

			/* A call refused with -32002 (access denied): ask whether the session still reads
			 * uci luci; if even that is refused, the session has expired. */
			classes.rpc.addInterceptor(function(msg, req) {
				if (!self.isObject(msg) || !self.isObject(msg.error) || msg.error.code != -32002)
					return;
				if (!self.isObject(req) || (req.object == 'session' && req.method == 'access'))
					return;
				return classes.rpc.declare({
					object: 'session', method: 'access', params: [ 'scope', 'object', 'function' ],
					expect: { access: true }
				})('uci', 'luci', 'read').catch(function() {
					ui.showModal(_('Session expired'), [
						E('div', { 'class': 'alert-message warning' }, [ _('A new login is required since the authentication session expired.') ])
					]);
				});
			});

			return this.probePreloadClasses(classes.rpc).then(function(names) {
				return Promise.all(names.map(function(n) { return self.require(n); }));
			}).then(function() {
				return self.initDOM();
			});
		},

		initDOM: function() {
			if (originalCBIInit)
				originalCBIInit();
			Poll.start();
			L.loaded = true;
			document.dispatchEvent(new CustomEvent('luci-loaded'));
		},

		env: env,

		fspath: function() {
			var path = env.documentroot;
			for (var i = 0; i < arguments.length; i++)
				path += '/' + arguments[i];
			var p = path.replace(/\/+$/, '').replace(/\/+/g, '/').split(/\//), res = [];
			for (var j = 0; j < p.length; j++)
				if (p[j] == '..')
					res.pop();
				else if (p[j] != '.')
					res.push(p[j]);
			return res.join('/');
		},

		path: function(prefix, parts) {
			var url = [ prefix || '' ];
			for (var i = 0; i < parts.length; i++)
				if (/^(?:[a-zA-Z0-9_.%,;-]+\/)*[a-zA-Z0-9_.%,;-]+$/.test(parts[i]))
					url.push('/', parts[i]);
			if (url.length === 1)
				url.push('/');
			return url.join('');
		},

		url: function() { return this.path(env.scriptname, arguments); },
		resource: function() { return this.path(env.resource, arguments); },
		media: function() { return this.path(env.media, arguments); },
		location: function() { return this.path(env.scriptname, env.requestpath); },

		isObject: function(val) { return (val != null && typeof(val) == 'object'); },
		isArguments: function(val) { return Object.prototype.toString.call(val) == '[object Arguments]'; },

		toArray: function(val) {
			if (val == null) return [];
			if (Array.isArray(val)) return val;
			if (typeof(val) == 'object') return [ val ];
			var s = String(val).trim();
			return (s != '') ? s.split(/\s+/) : [];
		},

		sortedKeys: function(obj, key, sortmode) {
			if (obj == null || typeof(obj) != 'object')
				return [];
			return Object.keys(obj).sort();
		},

		resolveDefault: function(value, defvalue) {
			return Promise.resolve(value).catch(function() { return defvalue; });
		},

		hasViewPermission: function() {
			if (!this.isObject(env.nodespec) || !env.nodespec.satisfied)
				return null;
			return !env.nodespec.readonly;
		},

		halt: function() { return Poll.stop(); },
		run: function() { return Poll.start(); },

		dom: DOM,
		view: View,
		Poll: Poll,
		Request: Request,
		Class: Class
	});

	window.LuCI = LuCI;
})(window, document);
