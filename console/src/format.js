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
// "12.34" yuan -> 1234 fen, exactly from the text (no floating point);
// null when the text is not a non-negative amount with at most 2 decimals.
export function toFen(text) {
  const s = String(text ?? '').trim()
  if (!/^\d{1,10}(\.\d{0,2})?$/.test(s)) return null
  const [i, f = ''] = s.split('.')
  return Number(BigInt(i) * 100n + BigInt((f + '00').slice(0, 2)))
}
Object.assign(LABELS, {
  readingStatus: { ok: '正常', flagged: '待审核', corrected: '已更正', rejected: '已驳回' },
  readingSource: { auto: '自动采集', collector: '自动采集', manual: '人工录入', import: '批量导入', reader: '抄表员', initial: '初始读数', final: '拆表读数' },
  flagReason: { beyond_digits: '超出位数', rollover: '翻转', backwards: '倒走', spike: '用量突增（超物理上限）', spike_history: '用量异常（超历史均值）', above_next: '大于后一读数', stuck: '读数停滞' },
  channel: { wechat: '微信支付', cash: '现金', bank: '银行转账', balance: '余额抵扣' },
  purpose: { bill: '缴费', topup: '预存', bills: '缴费' },
  paymentStatus: { success: '成功', pending: '处理中', failed: '失败', refunded: '已退款' },
  orderState: { created: '待支付', paid: '已支付', closed: '已关闭', partially_refunded: '部分退款', refunded: '已退款' },
  refundState: { requested: '已提交', processing: '退款中', success: '退款成功', rejected: '已拒绝', closed: '已关闭', abnormal: '异常' },
  alertLevel: { info: '提示', warning: '警告', critical: '严重' },
  alertState: { open: '待处理', acked: '已确认', closed: '已关闭' },
  alertKind: { reading_flagged: '读数待审核', usage_spike: '用量突增', zero_use: '零用量', usage_while_vacant: '空置房用量', water_leak: '疑似漏水', line_loss: '线损异常', pay_notify_unknown: '未知支付通知', pay_notify_mismatch: '支付通知不符', refund_abnormal: '退款异常', reconcile_diff: '对账差异', meter_offline: '表计离线', stuck: '读数停滞' },
  noticeStatus: { draft: '草稿', published: '已发布', withdrawn: '已撤回' },
  ticketStatus: { open: '待处理', assigned: '已分派', in_progress: '处理中', resolved: '已解决', closed: '已关闭' },
  ticketKind: { feedback: '意见反馈', repair: '报修', complaint: '投诉', billing: '账务问题' },
  command: { trip: '拉闸（断电）', close: '合闸（送电）' },
  commandState: { requested: '待审批', approved: '已批准', rejected: '已驳回', sent: '已下发', done: '已执行', failed: '执行失败', cancelled: '已取消' },
  dunningChannel: { wx_subscribe: '微信订阅消息', sms: '短信', notice: '站内通知', staff_task: '人工催缴' },
})
const TAGS = {
  readingStatus: { ok: 'success', flagged: 'warning', corrected: 'primary', rejected: 'danger' },
  alertLevel: { info: 'info', warning: 'warning', critical: 'danger' },
  alertState: { open: 'danger', acked: 'warning', closed: 'info' },
  noticeStatus: { draft: 'info', published: 'success', withdrawn: 'warning' },
  ticketStatus: { open: 'danger', assigned: 'warning', in_progress: 'primary', resolved: 'success', closed: 'info' },
  commandState: { requested: 'warning', approved: 'primary', rejected: 'info', sent: 'primary', done: 'success', failed: 'danger', cancelled: 'info' },
  refundState: { requested: 'info', processing: 'warning', success: 'success', rejected: 'danger', closed: 'info', abnormal: 'danger' },
}
export function tag(kind, v) { return (TAGS[kind] && TAGS[kind][v]) || tagType(kind, v) }
