// The house account's history (GET /api/v1/houses/{id}/ledger): every
// payment, settlement, refund and adjustment, signed from the house's side,
// with the running balance when the server can derive it.
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const money = require('../../utils/money')
const fmt = require('../../utils/format')

Page({
  data: { loading: true, error: '', notReady: false, balanceText: '', items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/houses/' + house.currentId() + '/ledger')
      this.setData({
        loading: false,
        balanceText: money.formatYuan(body.balance_fen || 0),
        items: (body.items || []).map(e => ({
          id: e.id,
          kindText: e.kind_zh || e.kind,
          amountText: (e.amount_fen > 0 ? '+' : '') + money.formatYuan(e.amount_fen),
          credit: e.amount_fen > 0,
          balanceText: e.balance_after_fen === null || e.balance_after_fen === undefined ? '' : '余额 ' + money.formatYuan(e.balance_after_fen),
          note: e.note || '',
          timeText: fmt.timeLabel(e.created_at)
        }))
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  }
})
