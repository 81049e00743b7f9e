// Explains one bill line: what it is, quantity × unit price = amount.
// line: {label_zh, kind, tier, tou_window, component, qty_milli, unit_price_hao, amount_fen}
const money = require('./money')

const TOU = { peak: '峰时', flat: '平时', valley: '谷时', sharp: '尖峰', deep_valley: '深谷' }
const KIND = { energy: '电量电费', component: '水费分项', fixed: '固定费用', public_share: '公摊费用', loss_share: '损耗分摊', subsidy: '补贴', late_fee: '滞纳金', adjust: '调整' }
// Water fee parts (lib/tariff.c names); an unknown part is not shown in English.
const COMPONENT = { water: '水费', resource: '水资源费', sewage: '污水处理费' }
// qty_milli is Wh for electricity and L for water: shown as 度 (kWh) and 吨 (m³).
const UNIT = { electric: '度', water: '吨' }

function explain(line, utility) {
  const l = line || {}
  const parts = []
  if (l.tier) parts.push('第' + l.tier + '档')
  if (l.tou_window) parts.push(TOU[l.tou_window] || l.tou_window)
  const label = l.label_zh || KIND[l.kind] || l.kind || '费用'
  const comp = COMPONENT[l.component]
  if (comp && !label.includes(comp)) parts.push(comp)
  const hasQty = l.qty_milli !== null && l.qty_milli !== undefined
  const hasPrice = l.unit_price_hao !== null && l.unit_price_hao !== undefined
  return {
    label,
    detail: parts.join(' · '),
    qty: hasQty ? money.milliToQty(l.qty_milli) + (UNIT[utility] ? ' ' + UNIT[utility] : '') : '',
    price: hasPrice ? money.haoToYuan(l.unit_price_hao) : '',
    formula: hasQty && hasPrice
      ? money.milliToQty(l.qty_milli) + (UNIT[utility] || '') + ' × ¥' + money.haoToYuan(l.unit_price_hao) + (UNIT[utility] ? '/' + UNIT[utility] : '')
      : '',
    amount: money.formatYuan(l.amount_fen || 0)
  }
}

module.exports = { explain }
