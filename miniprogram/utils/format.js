// Labels the API leaves to the client.
const UTILITY = { electric: '电费', water: '水费', gas: '燃气费', heating: '供暖费', property: '物业费', fixed: '固定费用' }
const BILL_STATUS = { issued: '待缴费', paid: '已缴清', draft: '未出账', void: '已作废', cancelled: '已作废' }
const ORDER_STATE = { created: '待支付', paid: '已支付', closed: '已关闭', refunded: '已退款' }

const utilityLabel = u => UTILITY[u] || u || ''
const billStatusLabel = s => BILL_STATUS[s] || s || ''
const orderStateLabel = s => ORDER_STATE[s] || s || ''

// '2026-10' -> '2026年10月'
function periodLabel(p) {
  const m = /^(\d{4})-(\d{2})/.exec(p || '')
  return m ? m[1] + '年' + Number(m[2]) + '月' : p || ''
}

// An ISO / SQL timestamp shown as 'YYYY-MM-DD HH:MM' (as sent: the API uses Beijing or UTC with Z)
function timeLabel(t) {
  if (!t) return ''
  return String(t).replace('T', ' ').replace(/(:\d{2})(\.\d+)?Z?$/, '$1').slice(0, 16)
}

module.exports = { utilityLabel, billStatusLabel, orderStateLabel, periodLabel, timeLabel }
