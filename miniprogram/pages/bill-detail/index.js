// One bill with every line explained (label, quantity × unit price, amount).
const { get } = require('../../utils/request')
const money = require('../../utils/money')
const fmt = require('../../utils/format')
const { explain } = require('../../utils/lines')

Page({
  data: { loading: true, error: '', bill: null, lines: [] },

  onLoad(q) { this.billId = Number(q && q.id); return this.refresh() },

  async refresh() {
    this.setData({ loading: true, error: '' })
    try {
      const b = await get('/api/v1/bills/' + this.billId)
      this.setData({
        loading: false,
        bill: {
          ...b,
          title: fmt.periodLabel(b.period) + ' ' + fmt.utilityLabel(b.utility),
          statusText: fmt.billStatusLabel(b.status),
          amountText: money.formatYuan(b.amount_fen),
          lateFeeText: money.formatYuan(b.late_fee_fen || 0),
          paidText: money.formatYuan(b.paid_fen || 0),
          unpaidText: money.formatYuan(b.unpaid_fen || 0),
          issuedText: fmt.timeLabel(b.issued_at),
          paidAtText: fmt.timeLabel(b.paid_at)
        },
        lines: (b.lines || []).map(l => ({ ...l, utility: b.utility }))
      })
    } catch (e) {
      this.setData({ loading: false, error: e.message })
    }
  },

  onPay() {
    const b = this.data.bill
    if (b && b.status === 'issued' && b.unpaid_fen > 0) {
      wx.navigateTo({ url: '/pages/pay/index?house_id=' + b.house_id + '&bill_ids=' + b.id })
    }
  }
})
