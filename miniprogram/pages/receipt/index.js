// One payment's receipt (收据), GET /api/v1/payments/{id}/receipt: issuer,
// address, payer, items adding up to the total, amount in 大写 from the server.
const { get } = require('../../utils/request')
const money = require('../../utils/money')
const fmt = require('../../utils/format')

Page({
  data: { loading: true, error: '', notReady: false, receipt: null },
  onLoad(q) { this.id = Number(q && q.id); return this.refresh() },
  async refresh() {
    try {
      const r = await get('/api/v1/payments/' + this.id + '/receipt')
      this.setData({
        loading: false,
        receipt: {
          title: r.title || '收据',
          receiptNo: r.receipt_no || '',
          issuer: r.issuer || '',
          address: (r.house && r.house.address) || '',
          payer: r.payer || '',
          channelText: r.channel_zh || r.channel || '',
          timeText: fmt.timeLabel(r.paid_at),
          totalText: money.formatYuan(r.total_fen || 0),
          totalUpper: r.total_upper || '',
          reversed: r.status === 'reversed',
          lines: (r.items || []).map((l, i) => ({ key: i, label: l.label_zh || fmt.periodLabel(l.period) + (l.utility_zh || fmt.utilityLabel(l.utility)), amountText: money.formatYuan(l.amount_fen || 0) }))
        }
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  }
})
