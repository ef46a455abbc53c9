// NAME
//	web.test.mjs - authguard-web's pages in Debian's chromium
// SUMMARY
//	node tests/browser/web.test.mjs CONFIG_JSON
// DESCRIPTION
//	Drives one headless chromium (puppeteer-core, the system's
//	/usr/bin/chromium, no browser download) through the helpdesk's
//	pages of a running authguard-web. tests/lab/test_web.py starts the
//	lab (Postfix, Dovecot, authguard-policyd, authguard-web), makes the
//	real logins, and asks for one scenario at a time: one JSON line on
//	stdin, {"scenario": NAME, ...}; the answer is one JSON line on
//	stdout, {"name": NAME, "ok": true|false, "why": [...], "facts": {...}}.
//	"why" lists each expectation that failed; "facts" is what the page
//	showed, for the python side's own checks. {"scenario": "quit"}
//	closes the browser.
//
//	CONFIG_JSON: {"base": "http://127.0.0.1:PORT/", "chromium": PATH,
//	"header": "X-Remote-User", "csp": "..."}.
//
//	Every page is watched the same way: a JavaScript dialog, a request
//	to any origin other than the web's (and, in the cross-site
//	scenario, the attacker's), or a document without the expected
//	Content-Security-Policy header is a failure of the scenario.
//	Requests elsewhere are aborted. A user is a browser context of its
//	own (its own cookies), named to authguard-web by the user header,
//	as a trusted reverse proxy does.
import readline from 'node:readline';
import process from 'node:process';
import puppeteer from 'puppeteer-core';

const config = JSON.parse(process.argv[2] || '{}');
const base = config.base;
const origin = new URL(base).origin;

// launch - the one browser of the run
async function launch() {
	const args = ['--headless=new', '--disable-gpu', '--no-first-run',
	    '--no-default-browser-check', '--disable-extensions', '--disable-dev-shm-usage',
	    '--disable-background-networking', '--disable-component-update', '--disable-sync',
	    '--hide-scrollbars', '--font-render-hinting=none'];
	if (process.getuid && process.getuid() === 0)
		args.push('--no-sandbox');
	return puppeteer.launch({
		executablePath: config.chromium || '/usr/bin/chromium',
		headless: true, args, pipe: true,
		defaultViewport: {width: 1200, height: 800},
		protocolTimeout: 30000,
	});
}

// Watch - one user's page and what it did: dialogs, foreign requests, documents
class Watch {
	constructor(page, allowed) {
		this.page = page;
		this.allowed = new Set([origin, ...(allowed || [])]);
		this.dialogs = [];
		this.foreign = [];
		this.documents = [];
		this.requests = [];
	}

	async init(user) {
		const p = this.page;
		if (user !== null && user !== undefined)
			await p.setExtraHTTPHeaders({[config.header || 'X-Remote-User']: user});
		p.on('dialog', d => {
			this.dialogs.push(d.type() + ': ' + d.message());
			d.dismiss().catch(() => {});
		});
		await p.setRequestInterception(true);
		p.on('request', r => {
			const u = r.url();
			this.requests.push(u);
			let o;
			try {
				o = new URL(u).origin;
			} catch {
				o = u;
			}
			if (u.startsWith('data:') || u === 'about:blank' || this.allowed.has(o)) {
				r.continue().catch(() => {});
			} else {
				this.foreign.push(u);
				r.abort().catch(() => {});
			}
		});
		p.on('response', r => {
			if (r.request().resourceType() === 'document' && r.url().startsWith(origin))
				this.documents.push({url: r.url(), status: r.status(), headers: r.headers()});
		});
		return this;
	}

	// problems - what went wrong on this page whatever the scenario
	problems() {
		const why = [];
		if (this.dialogs.length)
			why.push('dialogs opened: ' + JSON.stringify(this.dialogs));
		if (this.foreign.length)
			why.push('requests to other origins: ' + JSON.stringify(this.foreign));
		for (const d of this.documents) {
			const csp = d.headers['content-security-policy'];
			if (!csp)
				why.push('no Content-Security-Policy on ' + d.url);
			else if (config.csp && csp !== config.csp)
				why.push('Content-Security-Policy on ' + d.url + ' is ' + JSON.stringify(csp));
		}
		return why;
	}
}

const contexts = new Map();	// user -> browser context

// open - a new page for user (null: no user header), in that user's own context
async function open(browser, user, allowed) {
	const key = user === null || user === undefined ? '' : String(user);
	let ctx = contexts.get(key);
	if (!ctx) {
		ctx = await browser.createBrowserContext();
		contexts.set(key, ctx);
	}
	const page = await ctx.newPage();
	return new Watch(page, allowed).init(user);
}

// facts - what a page of authguard-web shows, by the agreed ids and classes
async function facts(page) {
	return page.evaluate(() => {
		const text = (el, sel) => {
			const e = sel ? el && el.querySelector(sel) : el;
			return e ? e.textContent.trim() : null;
		};
		const section = id => {
			const s = document.querySelector('section#' + id);
			if (!s)
				return null;
			return {
				key: s.getAttribute('data-key'),
				state: text(s, '.state'), until: text(s, '.until'),
				failures: text(s, '.failures'),
				unlock: !!s.querySelector('form.unlock'),
				lock: !!s.querySelector('form.lock'),
			};
		};
		const cells = ['time', 'door', 'mech', 'tls', 'ip', 'result', 'cause', 'ref', 'user'];
		return {
			title: document.title,
			whoami: text(document, '#whoami'),
			query: text(document, 'h1#query'),
			flash: text(document, '#flash'),
			notfound: !!document.querySelector('#notfound'),
			error: text(document, '#error'),
			scripts: document.scripts.length,
			causes: [...document.querySelectorAll('section#causes article.cause')].map(a => ({
				cause: a.getAttribute('data-cause'), title: text(a, '.title'),
				tell: text(a, '.tell'), todo: text(a, '.todo'),
			})),
			rows: [...document.querySelectorAll('table#timeline tbody tr')].map(tr => {
				const r = {ref: tr.getAttribute('data-ref')};
				for (const c of cells)
					r[c] = text(tr, 'td.' + c);
				return r;
			}),
			account: section('account'),
			address: section('address'),
			familiar: [...document.querySelectorAll('ul#familiar li')].map(li => text(li)),
			stylesheet: [...document.styleSheets].some(s => s.href && s.cssRules.length > 0),
		};
	});
}

// search - type q into the search page's form, submit; the result page's response
async function search(w, q) {
	const p = w.page;
	await p.goto(base, {waitUntil: 'load'});
	await p.waitForSelector('form#search input#q');
	await p.type('input#q', q);
	const [resp] = await Promise.all([p.waitForNavigation({waitUntil: 'load'}), p.click('button#go')]);
	return resp;
}

// settle - a moment for anything a page might still do (a dialog, a late request)
const settle = (ms = 200) => new Promise(r => setTimeout(r, ms));

// expect - collect a failed expectation
function expect(why, cond, what) {
	if (!cond)
		why.push(what);
}

const lc = s => (s || '').toLowerCase();

const scenarios = {
	// a ref typed into the search form: its cause, what to tell, what to do
	async ref(browser, a) {
		const w = await open(browser, a.user);
		const why = [];
		const resp = await search(w, a.ref);
		const f = await facts(w.page);
		expect(why, resp && resp.status() === 200, 'status ' + (resp && resp.status()));
		expect(why, new URL(w.page.url()).pathname.endsWith('/why'), 'not on why: ' + w.page.url());
		expect(why, (f.query || '').includes(a.ref), 'h1#query does not show the ref: ' + f.query);
		const c = f.causes.find(x => x.cause === a.cause);
		expect(why, c, 'no article.cause[data-cause=' + a.cause + '] among ' +
		    JSON.stringify(f.causes.map(x => x.cause)));
		if (c) {
			expect(why, c.title, 'the cause has no .title');
			expect(why, c.tell, 'the cause has no .tell');
			expect(why, c.todo, 'the cause has no .todo');
		}
		expect(why, f.rows.some(r => r.ref === a.ref), 'no timeline row tr[data-ref=' + a.ref + ']');
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: f};
	},

	// a user's timeline, each expected attempt a row with its cells
	async timeline(browser, a) {
		const w = await open(browser, a.user);
		const why = [];
		const resp = await search(w, a.q);
		const f = await facts(w.page);
		expect(why, resp && resp.status() === 200, 'status ' + (resp && resp.status()));
		expect(why, (f.query || '').includes(a.q), 'h1#query does not show the user: ' + f.query);
		expect(why, f.rows.length >= a.attempts.length,
		    f.rows.length + ' timeline rows for ' + a.attempts.length + ' attempts');
		for (const e of a.attempts) {
			const r = f.rows.find(x => x.ref === e.ref);
			if (!r) {
				why.push('no row for ref ' + e.ref);
				continue;
			}
			for (const k of ['door', 'mech', 'ip', 'cause', 'ref']) {
				if (!lc(r[k]).includes(lc(e[k])))
					why.push('row ' + e.ref + ' td.' + k + ' is ' + JSON.stringify(r[k]) +
					    ', not ' + JSON.stringify(e[k]));
			}
			if (!r.tls)
				why.push('row ' + e.ref + ' has no td.tls');
		}
		// newest first
		const order = a.attempts.map(e => f.rows.findIndex(x => x.ref === e.ref));
		const sorted = [...order].sort((x, y) => x - y);
		expect(why, JSON.stringify(order) === JSON.stringify(sorted),
		    'rows are not newest first: ' + JSON.stringify(order));
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: f};
	},

	// a locked account, unlocked with its button
	async unlock(browser, a) {
		const w = await open(browser, a.user);
		const why = [];
		const resp = await w.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
		const before = await facts(w.page);
		expect(why, resp.status() === 200, 'status ' + resp.status());
		expect(why, before.account && before.account.state === 'locked',
		    'section#account .state is not "locked": ' + JSON.stringify(before.account));
		expect(why, before.account && before.account.until, 'no .until on a locked account');
		let after = null;
		if (before.account && before.account.unlock) {
			const [r2] = await Promise.all([w.page.waitForNavigation({waitUntil: 'load'}),
			    w.page.click('section#account form.unlock [type=submit]')]);
			after = await facts(w.page);
			expect(why, r2 && r2.status() === 200, 'after the button: status ' + (r2 && r2.status()));
			expect(why, new URL(w.page.url()).searchParams.get('done') === 'unlocked',
			    'not redirected to why?...&done=unlocked: ' + w.page.url());
			expect(why, after.flash, 'no #flash after the unlock');
			expect(why, after.account && after.account.state === 'not locked',
			    'after the unlock .state is ' + JSON.stringify(after.account && after.account.state));
			expect(why, after.account && after.account.lock, 'no form.lock once unlocked');
		} else {
			why.push('no form.unlock for the admin');
		}
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: {before, after}};
	},

	// an attacker's page on another origin auto-submits a form to /unlock,
	// with the admin's REAL token: only the cross-site defences can refuse it
	async crosssite(browser, a) {
		const why = [];
		const results = [];
		for (const evil of a.evil) {
			const w = await open(browser, a.user, [new URL(evil).origin]);
			// the admin has visited the site: a cookie and a token exist;
			// the token is read from the admin's own page
			await w.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
			const cookies = await w.page.cookies(base);
			const token = await w.page.$eval('section#account form.unlock input[name=csrf]',
			    e => e.value).catch(() => null);
			expect(why, /^[0-9a-f]{64}$/.test(token || ''),
			    evil + ': no 64-hex csrf in the admin\'s form.unlock: ' + JSON.stringify(token));
			// what chromium really puts on the wire for the POST (the network
			// stack adds Sec-Fetch-*, Origin and Cookie after interception)
			const cdp = await w.page.createCDPSession();
			// (a redirect keeps the requestId: the first headers of an id are the POST's)
			const posts = new Set();	// requestIds of the POST
			const extra = new Map();	// requestId -> the headers first sent
			cdp.on('Network.requestWillBeSent', e => {
				if (e.request.url.startsWith(base + 'unlock'))
					posts.add(e.requestId);
			});
			cdp.on('Network.requestWillBeSentExtraInfo', e => {
				if (!extra.has(e.requestId))
					extra.set(e.requestId, e.headers);
			});
			await cdp.send('Network.enable');
			let body = null;
			w.page.on('request', r => {
				if (r.url().startsWith(base + 'unlock'))
					body = r.postData() || '';
			});
			const got = w.page.waitForResponse(r => r.url().startsWith(base + 'unlock'),
			    {timeout: 10000});
			await w.page.goto(evil + '&csrf=' + encodeURIComponent(token || ''),
			    {waitUntil: 'load'}).catch(() => {});
			let status = null;
			try {
				const r = await got;
				status = r.status();
				await w.page.waitForSelector('#error', {timeout: 3000}).catch(() => {});
			} catch (e) {
				why.push(evil + ': the form did not reach /unlock: ' + e.message);
			}
			await settle();
			const f = status !== null ? await facts(w.page) : null;
			const sent = {};
			for (const id of posts)
				for (const [k, v] of Object.entries(extra.get(id) || {}))
					sent[k.toLowerCase()] = v;
			await cdp.detach().catch(() => {});
			const form = new URLSearchParams(body || '');
			expect(why, token && form.get('csrf') === token,
			    evil + ': the POST did not carry the admin\'s token: ' + JSON.stringify(body));
			expect(why, status === 403, evil + ': POST /unlock answered ' + status + ', not 403');
			expect(why, f && f.error, evil + ': no #error on the refusal page');
			results.push({evil, status, error: f && f.error, token_sent: form.get('csrf') === token,
			    cookies: cookies.map(c => c.name),
			    sec_fetch_site: sent['sec-fetch-site'] || null, origin: sent['origin'] || null,
			    cookie_sent: /(^|;\s*)authguard_csrf=/.test(sent['cookie'] || ''),
			    wire_seen: Object.keys(sent).length > 0});
			why.push(...w.problems());
			await w.page.close();
		}
		return {why, facts: results};
	},

	// a hostile user name shows as text and runs nothing
	async hostile(browser, a) {
		const w = await open(browser, a.user);
		const why = [];
		const resp = await search(w, a.q);
		await settle(300);
		const f = await facts(w.page);
		const html = await w.page.content();
		expect(why, resp && resp.status() === 200, 'status ' + (resp && resp.status()));
		expect(why, f.query === a.q || (f.query || '').includes(a.q),
		    'h1#query does not show the name literally: ' + JSON.stringify(f.query));
		expect(why, f.rows.some(r => r.user === a.q),
		    'no timeline row whose td.user is the name literally: ' +
		    JSON.stringify(f.rows.map(r => r.user)));
		expect(why, f.account && f.account.key === a.q,
		    'section#account[data-key] is not the name: ' + JSON.stringify(f.account));
		expect(why, f.scripts === 0, f.scripts + ' script elements in the page');
		expect(why, !html.includes(a.q), 'the raw name is in the HTML');
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: f};
	},

	// a helpdesk user without unlock rights: no button, and forged POSTs are refused
	async viewer(browser, a) {
		const why = [];
		const w = await open(browser, a.user);
		const resp = await w.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
		const f = await facts(w.page);
		expect(why, resp.status() === 200, 'status ' + resp.status());
		expect(why, f.whoami === a.user, '#whoami is ' + JSON.stringify(f.whoami));
		expect(why, f.account && f.account.state === 'locked',
		    'the account is not shown locked: ' + JSON.stringify(f.account));
		expect(why, f.account && !f.account.unlock && !f.account.lock,
		    'the viewer sees a lock or unlock form: ' + JSON.stringify(f.account));
		expect(why, !(await w.page.$('form[method=post], form[method=POST]')),
		    'the viewer\'s page has a POST form');
		// The admin's form, as the admin's page has it, copied into the viewer's page (the
		// DevTools protocol writes the DOM; the page's CSP forbids any script of its own).
		const adm = await open(browser, a.admin);
		await adm.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
		const token = await adm.page.$eval('section#account form.unlock input[name=csrf]',
		    e => e.value).catch(() => null);
		expect(why, token, 'the admin\'s page has no form.unlock with a csrf field');
		await adm.page.close();
		const forged = [];
		for (const csrf of [token || 'x', null]) {
			await w.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
			await w.page.evaluate((target, csrf) => {
				const f = document.createElement('form');
				f.method = 'post';
				f.action = 'unlock';
				f.id = 'forged';
				const add = (n, v) => {
					const i = document.createElement('input');
					i.type = 'hidden';
					i.name = n;
					i.value = v;
					f.appendChild(i);
				};
				add('target', target);
				if (csrf !== null)
					add('csrf', csrf);
				const b = document.createElement('button');
				b.type = 'submit';
				b.id = 'forged-go';
				b.textContent = 'unlock';
				f.appendChild(b);
				document.body.appendChild(f);
			}, a.q, csrf);
			const [r] = await Promise.all([w.page.waitForNavigation({waitUntil: 'load'}),
			    w.page.click('#forged-go')]);
			const g = await facts(w.page);
			forged.push({csrf: csrf === null ? 'none' : 'admin\'s', status: r && r.status(), error: g.error});
			expect(why, r && r.status() === 403, 'forged POST (csrf ' +
			    (csrf === null ? 'none' : 'of the admin') + ') answered ' + (r && r.status()));
			expect(why, g.error, 'no #error on the refusal page');
		}
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: {page: f, forged}};
	},

	// the headers and the requests of every page: CSP, no request elsewhere, the stylesheet
	async pages(browser, a) {
		const why = [];
		const w = await open(browser, a.user);
		const seen = [];
		for (const path of a.paths) {
			const r = await w.page.goto(base + path, {waitUntil: 'load'});
			const h = r.headers();
			const f = await facts(w.page);
			seen.push({path, status: r.status(), stylesheet: f.stylesheet});
			expect(why, r.status() === 200, path + ': status ' + r.status());
			expect(why, h['content-security-policy'], path + ': no Content-Security-Policy');
			expect(why, h['x-content-type-options'] === 'nosniff', path + ': no nosniff');
			expect(why, lc(h['x-frame-options']) === 'deny', path + ': no X-Frame-Options: DENY');
			expect(why, f.stylesheet, path + ': style.css did not load');
			expect(why, f.scripts === 0, path + ': ' + f.scripts + ' script elements');
			expect(why, f.whoami === a.user, path + ': #whoami is ' + JSON.stringify(f.whoami));
			// relative links only: the site works under any prefix of a reverse proxy
			const abs = await w.page.evaluate(() => [
			    ...[...document.querySelectorAll('[href]')].map(e => e.getAttribute('href')),
			    ...[...document.querySelectorAll('form')].map(e => e.getAttribute('action') || ''),
			    ...[...document.querySelectorAll('[src]')].map(e => e.getAttribute('src')),
			].filter(u => /^\/|^[a-z][a-z0-9+.-]*:/i.test(u)));
			expect(why, abs.length === 0, path + ': links that are not relative: ' + JSON.stringify(abs));
			const nav = await w.page.$$eval('nav a', as => as.map(x => x.getAttribute('href')));
			expect(why, nav.includes('./') && nav.includes('overview'),
			    path + ': nav links are ' + JSON.stringify(nav));
		}
		expect(why, w.requests.every(u => u.startsWith(origin + '/')),
		    'requests: ' + JSON.stringify(w.requests));
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: {seen, requests: w.requests}};
	},

	// HTTP basic authentication against the htpasswd file, for a user without a proxy
	async basic(browser, a) {
		const why = [];
		const seen = [];
		for (const [password, status] of [[a.password, 200], [a.password + 'x', 401]]) {
			const ctx = await browser.createBrowserContext();
			const w = await new Watch(await ctx.newPage()).init(null);
			await w.page.authenticate({username: a.basic, password});
			const r = await w.page.goto(base, {waitUntil: 'load'});
			const f = await facts(w.page);
			seen.push({status: r.status(), whoami: f.whoami,
			    challenge: r.headers()['www-authenticate'] || null});
			expect(why, r.status() === status, (status === 200 ? 'the right' : 'a wrong') +
			    ' password: status ' + r.status() + ', not ' + status);
			if (status === 200)
				expect(why, f.whoami === a.basic, '#whoami is ' + JSON.stringify(f.whoami));
			else
				expect(why, /^basic /i.test(r.headers()['www-authenticate'] || ''),
				    'no WWW-Authenticate: Basic on the 401');
			why.push(...w.problems());
			await ctx.close();
		}
		return {why, facts: seen};
	},

	// the overview: the chart of failures by cause and hour, exactly as the
	// control socket's overview (a.failures) has them; the locked accounts
	async overview(browser, a) {
		const why = [];
		const w = await open(browser, a.user);
		const r = await w.page.goto(base + 'overview', {waitUntil: 'load'});
		const f = await w.page.evaluate(() => ({
			chart: !!document.querySelector('svg#chart'),
			label: (document.querySelector('svg#chart > title') || {}).textContent || null,
			rects: [...document.querySelectorAll('svg#chart rect[data-cause]')].map(x => ({
				hour: x.getAttribute('data-hour'), cause: x.getAttribute('data-cause'),
				count: Number(x.getAttribute('data-count')),
			})),
			locked: [...document.querySelectorAll('table#locked-accounts tbody tr')].map(
			    x => x.getAttribute('data-key')),
		}));
		expect(why, r.status() === 200, 'status ' + r.status());
		expect(why, f.chart && f.label, 'no svg#chart with a <title>');
		// per (hour, cause): exactly the control socket's overview, one rect each
		const want = new Map();
		for (const h of a.failures)
			for (const [cause, n] of Object.entries(h.causes || {}))
				want.set(h.hour + ' ' + cause, n);
		const hours = new Set(a.failures.map(h => h.hour));
		const drawn = new Map();
		for (const x of f.rects) {
			const k = x.hour + ' ' + x.cause;
			expect(why, hours.has(x.hour), 'a rect\'s data-hour ' + JSON.stringify(x.hour) +
			    ' is none of the overview\'s 24 hours');
			expect(why, !drawn.has(k), 'two rects for ' + k);
			drawn.set(k, (drawn.get(k) || 0) + x.count);
		}
		for (const [k, n] of want)
			expect(why, drawn.get(k) === n, 'the chart has ' + (drawn.has(k) ?
			    drawn.get(k) : 'no rect') + ' for ' + k + ', the overview ' + n);
		for (const [k, n] of drawn)
			expect(why, want.has(k), 'the chart has ' + n + ' for ' + k +
			    ', the overview none');
		for (const k of a.locked)
			expect(why, f.locked.includes(k), k + ' is not in table#locked-accounts');
		const same = JSON.stringify([...f.locked].sort()) ===
		    JSON.stringify([...a.overview_locked].sort());
		expect(why, same, 'table#locked-accounts is ' + JSON.stringify(f.locked) + ', the overview\'s ' +
		    JSON.stringify(a.overview_locked));
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: f};
	},

	// a result page, as a picture
	async screenshot(browser, a) {
		const why = [];
		const w = await open(browser, a.user);
		const r = await w.page.goto(base + 'why?q=' + encodeURIComponent(a.q), {waitUntil: 'load'});
		const f = await facts(w.page);
		expect(why, r.status() === 200, 'status ' + r.status());
		expect(why, f.stylesheet, 'style.css did not load');
		await w.page.screenshot({path: a.path, fullPage: true, type: 'png'});
		why.push(...w.problems());
		await w.page.close();
		return {why, facts: f};
	},
};

// answer - one JSON line on stdout
function answer(name, ok, why, f) {
	process.stdout.write(JSON.stringify({name, ok, why, facts: f}) + '\n');
}

async function main() {
	const browser = await launch();
	const rl = readline.createInterface({input: process.stdin});
	for await (const line of rl) {
		if (!line.trim())
			continue;
		let a;
		try {
			a = JSON.parse(line);
		} catch (e) {
			answer('?', false, ['bad request line: ' + e.message], null);
			continue;
		}
		if (a.scenario === 'quit')
			break;
		const fn = scenarios[a.scenario];
		if (!fn) {
			answer(a.scenario, false, ['no such scenario'], null);
			continue;
		}
		try {
			const r = await fn(browser, a);
			answer(a.scenario, r.why.length === 0, r.why, r.facts);
		} catch (e) {
			answer(a.scenario, false, ['exception: ' + (e && e.stack || e)], null);
		}
	}
	await browser.close();
}

main().catch(e => {
	process.stderr.write('web.test.mjs: ' + (e && e.stack || e) + '\n');
	process.exit(1);
});
