// Display helpers. Money arrives as integer fen and is shown as yuan with
// two decimals without going through floating point.
export function yuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '-'
  const n = BigInt(Math.trunc(Number(fen)))
  const neg = n < 0n
  const a = neg ? -n : n
  const s = (a / 100n).toLocaleString('zh-CN') + '.' + String(a % 100n).padStart(2, '0')
  return (neg ? '-' : '') + '¥' + s
}
// Wh/L (or any milli-unit) as kWh/m3 with three decimals.
export function milli(v, unit = '') {
  if (v === null || v === undefined || v === '') return '-'
  const n = BigInt(Math.trunc(Number(v)))
  const neg = n < 0n, a = neg ? -n : n
  return (neg ? '-' : '') + (a / 1000n).toString() + '.' + String(a % 1000n).padStart(3, '0') + (unit ? ' ' + unit : '')
}
// "12.345" kWh -> 12345 Wh (exact, from the text)
export function toMilli(text) {
  const s = String(text ?? '').trim()
  if (!/^\d+(\.\d{0,3})?$/.test(s)) return null
  const [i, f = ''] = s.split('.')
  return Number(i) * 1000 + Number((f + '000').slice(0, 3))
}
export function dt(v) {
  if (!v) return '-'
  const d = new Date(v)
  if (isNaN(d)) return v
  const p = (x) => String(x).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}
export function day(v) { return v ? String(v).slice(0, 10) : '-' }

export const LABELS = {
  utility: { electric: '电', water: '水' },
  utilityUnit: { electric: 'kWh', water: 'm³' },
  houseStatus: { occupied: '已入住', vacant: '空置', decorating: '装修中' },
  billingMode: { postpaid: '后付费', prepaid: '预付费' },
  billStatus: { draft: '草稿', issued: '待缴', paid: '已缴', void: '已作废' },
  meterKind: { household: '户表', supply: '总表', public: '公共表' },
  meterStatus: { active: '在用', removed: '已拆除' },
  protocol: { manual: '人工抄表', dlt645: 'DL/T 645', modbus: 'Modbus', cjt188: 'CJ/T 188' },
  relation: { owner: '业主', tenant: '租户', family: '家属' },
  jobState: { queued: '排队中', running: '计费中', done: '已完成', failed: '失败' },
  versionStatus: { draft: '草稿', published: '已发布', retired: '已停用' },
  customerClass: { resident: '居民', commercial: '商业', industrial: '工业', other: '其他' },
  action: { create: '新增', update: '修改', delete: '删除', login: '登录', void: '作废', remove: '拆表', replace: '换表', change_password: '修改密码', move_out: '迁出', assign: '分配', bill: '计费' },
  entity: { community: '小区', building: '楼栋', house: '房屋', resident: '住户', house_resident: '入住关系', meter: '表计', tariff: '价格方案', tariff_version: '价格版本', house_tariff: '价格分配', bill: '账单', staff_user: '员工', job: '计费任务' },
}
export function label(kind, v) { return (LABELS[kind] && LABELS[kind][v]) || v || '-' }
export function options(kind) { return Object.entries(LABELS[kind]).map(([value, label]) => ({ value, label })) }
export function tagType(kind, v) {
  const m = {
    billStatus: { draft: 'info', issued: 'warning', paid: 'success', void: 'danger' },
    meterStatus: { active: 'success', removed: 'info' },
    houseStatus: { occupied: 'success', vacant: 'info', decorating: 'warning' },
    jobState: { running: 'warning', done: 'success', failed: 'danger', queued: 'info' },
  }
  return (m[kind] && m[kind][v]) || 'info'
}
// Current month in Beijing time, "YYYY-MM".
export function thisMonth() {
  const d = new Date(Date.now() + 8 * 3600 * 1000)
  return d.toISOString().slice(0, 7)
}
