// The real local test stack (deploy/stack.sh): its URL, xq-wxsim's, and the
// stack's MariaDB for seeding estate rows and bills the way
// tests/e2e/test_resident.c does (the mariadb client over the stack's socket,
// credentials from the stack's xiaoqu.conf). Staff actions go through the admin
// API with login + CSRF like a browser.
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')
const { httpJson } = require('./wx-harness')

const URL_ = process.env.XQ_TEST_URL || ''
const WXSIM = process.env.XQ_WXSIM_URL || (URL_ ? URL_.replace(/:(\d+)$/, (m, p) => ':' + (Number(p) + 10)) : '')
const CONFIG = process.env.XQ_CONFIG || ''
const ADMIN_PW = process.env.XQ_TEST_ADMIN_PASSWORD || 'Xiaoqu@2026'

function readIni(file) {
  const out = {}
  let sec = ''
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim()
    if (!t || t[0] === '#' || t[0] === ';') continue
    const m = /^\[(.+)\]$/.exec(t)
    if (m) { sec = m[1]; continue }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(t)
    if (kv) out[sec + '.' + kv[1]] = kv[2]
  }
  return out
}

function dbArgs() {
  const c = readIni(CONFIG)
  const rel = p => path.isAbsolute(p) ? p : path.resolve(path.dirname(CONFIG), '..', p)
  const pw = c['db.password_file'] ? fs.readFileSync(rel(c['db.password_file']), 'utf8').trim() : c['db.password'] || ''
  const a = ['-N', '-B', '-u', c['db.user'] || 'xiaoqu']
  if (c['db.host']) a.push('-h', c['db.host'], '-P', c['db.port'] || '3306')
  else a.push('--socket=' + rel(c['db.socket']))
  return { args: a, pw, db: c['db.name'] || 'xiaoqu' }
}

// Runs SQL statements; returns the rows of the last one (tab-separated columns).
function sql(text) {
  const { args, pw, db } = dbArgs()
  const out = execFileSync('mariadb', [...args, db], { input: text, env: { ...process.env, MYSQL_PWD: pw } }).toString()
  return out.split('\n').filter(Boolean).map(l => l.split('\t'))
}

const esc = s => "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"

// A community with one building and a house whose owner is `owner`, and issued
// bills: [{period, utility, amount_fen, lines: [{kind, label_zh, qty_milli, unit_price_hao, amount_fen, tier, tou_window}]}].
function seedHouse({ uniq, owner = { name: '李住户', mobile: '13900001234' }, bills = [] }) {
  const rows = sql(`
INSERT INTO community (code, name) VALUES (${esc('MP' + uniq)}, ${esc('小程序测试小区' + uniq)});
SET @c = LAST_INSERT_ID();
INSERT INTO building (community_id, name) VALUES (@c, '3号楼');
SET @b = LAST_INSERT_ID();
INSERT INTO house (building_id, unit_no, room) VALUES (@b, '1', '301');
SET @h = LAST_INSERT_ID();
INSERT INTO resident (community_id, code, name, mobile) VALUES (@c, ${esc('MP' + uniq)}, ${esc(owner.name)}, ${esc(owner.mobile)});
INSERT INTO house_resident (house_id, resident_id, relation, move_in) VALUES (@h, LAST_INSERT_ID(), 'owner', '2024-01-01');
SELECT @c, @b, @h;`)
  const [communityId, buildingId, houseId] = rows[0].map(Number)
  const billIds = bills.map(b => addBill(houseId, b))
  return { communityId, buildingId, houseId, billIds }
}

function addBill(houseId, b) {
  const num = v => v === undefined || v === null ? 'NULL' : String(Number(v))
  const lines = (b.lines || []).map((l, i) => `INSERT INTO bill_line (bill_id, line_no, kind, tier, tou_window, label_zh, qty_milli, unit_price_hao, amount_fen)
 VALUES (@bill, ${i + 1}, ${esc(l.kind || 'energy')}, ${num(l.tier)}, ${l.tou_window ? esc(l.tou_window) : 'NULL'}, ${esc(l.label_zh)}, ${num(l.qty_milli)}, ${num(l.unit_price_hao)}, ${num(l.amount_fen)});`).join('\n')
  const rows = sql(`
INSERT INTO bill (house_id, period, utility, status, amount_fen, issued_at, due_date)
 VALUES (${houseId}, ${esc(b.period)}, ${esc(b.utility || 'electric')}, 'issued', ${num(b.amount_fen)}, NOW(3), CURRENT_DATE + INTERVAL 10 DAY);
SET @bill = LAST_INSERT_ID();
${lines}
SELECT @bill;`)
  return Number(rows[0][0])
}

// An electric meter of the house with readings [{read_at: 'YYYY-MM-DD HH:MM:SS' (UTC), value}]
// and daily rollups [{day, usage_wh}] with their monthly sums (what lib/rollup.c would have written).
function addMeter(communityId, houseId, meterNo, readings = [], daily = []) {
  const rows = sql(`
INSERT INTO meter (community_id, house_id, utility, kind, meter_no, smart) VALUES (${communityId}, ${houseId}, 'electric', 'household', ${esc(meterNo)}, 1);
SET @m = LAST_INSERT_ID();
${readings.map(r => `INSERT INTO meter_reading (meter_id, read_at, value, source) VALUES (@m, ${esc(r.read_at)}, ${Number(r.value)}, 'auto');`).join('\n')}
${daily.map(d => `INSERT INTO meter_usage_daily (meter_id, day, first_read_at, last_read_at, last_value, usage_total, readings) VALUES (@m, ${esc(d.day)}, ${esc(d.day + ' 00:00:00')}, ${esc(d.day + ' 12:00:00')}, 0, ${Number(d.usage_wh)}, 2);
INSERT INTO meter_usage_monthly (meter_id, month, usage_total, days) VALUES (@m, ${esc(d.day.slice(0, 7))}, ${Number(d.usage_wh)}, 1)
 ON DUPLICATE KEY UPDATE usage_total = usage_total + VALUES(usage_total), days = days + 1;`).join('\n')}
SELECT @m;`)
  return Number(rows[0][0])
}

// A staff session on the admin API: {cookie, csrf}.
async function staffLogin() {
  const login = await httpJson(URL_, 'POST', '/admin/api/v1/auth/login', { username: 'admin', password: ADMIN_PW })
  if (login.status !== 200) throw new Error('staff login: ' + login.status + ' ' + JSON.stringify(login.body))
  const cookie = [].concat(login.headers['set-cookie'] || []).map(c => c.split(';')[0]).join('; ')
  return { cookie, csrf: login.body.csrf_token }
}

// A staff write (cookie + CSRF) -> {status, body}
async function staffPost(urlPath, body) {
  const s = await staffLogin()
  return httpJson(URL_, 'POST', urlPath, body, { cookie: s.cookie, 'x-csrf-token': s.csrf })
}

// Staff: log in to the admin API (cookie + CSRF token) and issue a binding code for the house.
async function staffBindingCode(houseId) {
  const login = await httpJson(URL_, 'POST', '/admin/api/v1/auth/login', { username: 'admin', password: ADMIN_PW })
  if (login.status !== 200) throw new Error('staff login: ' + login.status + ' ' + JSON.stringify(login.body))
  const cookie = [].concat(login.headers['set-cookie'] || []).map(c => c.split(';')[0]).join('; ')
  const r = await httpJson(URL_, 'POST', '/admin/api/v1/houses/' + houseId + '/binding-code', { ttl_hours: 1 },
    { cookie, 'x-csrf-token': login.body.csrf_token })
  if (r.status !== 201) throw new Error('binding code: ' + r.status + ' ' + JSON.stringify(r.body))
  return r.body.code
}

// Does the API have this route? An unauthenticated call to a resident route
// answers 401 when it exists (the route check comes first) and 404
// "接口不存在" when it does not.
async function hasRoute(method, urlPath) {
  const r = await httpJson(URL_, method, urlPath, method === 'GET' ? undefined : {})
  return !(r.status === 404 && r.body && r.body.message === '接口不存在')
}

// Synchronous variant for deciding test vs test.skip at file load time.
function hasRouteSync(method, urlPath) {
  if (!URL_) return false
  const out = execFileSync(process.execPath, ['-e', `
    const { httpJson } = require(${JSON.stringify(path.join(__dirname, 'wx-harness.js'))});
    httpJson(${JSON.stringify(URL_)}, ${JSON.stringify(method)}, ${JSON.stringify(urlPath)}, ${method === 'GET' ? 'undefined' : '{}'})
      .then(r => process.stdout.write(r.status === 404 && r.body && r.body.message === '接口不存在' ? 'no' : 'yes'),
            e => process.stdout.write('down'))`]).toString()
  return out === 'yes'
}

function requireStack() {
  if (!URL_ || !CONFIG) throw new Error('page tests need the local stack: set XQ_TEST_URL and XQ_CONFIG (ctest does)')
}

module.exports = { URL: URL_, WXSIM, CONFIG, sql, seedHouse, addBill, addMeter, staffLogin, staffPost, staffBindingCode, hasRoute, hasRouteSync, requireStack }
