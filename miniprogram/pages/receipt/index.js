// One payment's receipt (GET /api/v1/payments/{id}/receipt).
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
          ...r,
          amountText: money.formatYuan(r.amount_fen || 0),
          timeText: fmt.timeLabel(r.paid_at || r.created_at),
          lines: (r.lines || r.items || []).map((l, i) => ({ key: i, label: l.label_zh || l.label || fmt.periodLabel(l.period) + ' ' + fmt.utilityLabel(l.utility), amountText: money.formatYuan(l.amount_fen || 0) }))
        }
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  }
})
