// Paying one or several bills, or a top-up (pages/topup hands over topup_fen):
// POST /api/v1/orders -> wx.requestPayment -> poll GET /api/v1/orders/{no}.
// A payment whose outcome is unknown (network lost) stays recoverable: the
// out_trade_no is in storage and the page queries again on return (onShow).
const { get } = require('../../utils/request')
const money = require('../../utils/money')
const fmt = require('../../utils/format')
const orders = require('../../utils/orders')

const MSG = {
  paid: '支付成功',
  cancelled: '已取消支付',
  failed: '支付未完成',
  checking: '正在确认支付结果…',
  retrying: '网络异常，正在重新查询支付结果…',
  unknown: '网络中断，支付结果待确认。恢复网络后返回本页将自动查询，请勿重复支付',
  created: '支付结果确认中，请稍后在缴费记录中查看'
}

Page({
  data: { houseId: 0, billIds: [], topupFen: 0, bills: [], amountText: '', state: 'ready', message: '', outTradeNo: '', busy: false, error: '' },

  async onLoad(q) {
    const houseId = Number(q.house_id)
    const billIds = String(q.bill_ids || '').split(',').filter(Boolean).map(Number)
    const topupFen = Number(q.topup_fen) || 0
    this.setData({ houseId, billIds, topupFen })
    if (topupFen) {
      this.setData({ amountText: money.formatYuan(topupFen), purposeText: '预存充值' })
      return
    }
    try {
      const body = await get('/api/v1/houses/' + houseId + '/bills')
      const bills = (body.items || []).filter(b => billIds.includes(b.id))
      const sum = bills.reduce((s, b) => s + b.unpaid_fen, 0)
      this.setData({
        bills: bills.map(b => ({ id: b.id, title: fmt.periodLabel(b.period) + ' ' + fmt.utilityLabel(b.utility), amountText: money.formatYuan(b.unpaid_fen) })),
        amountText: money.formatYuan(sum),
        purposeText: '缴纳账单 ' + bills.length + ' 笔'
      })
    } catch (e) {
      this.setData({ error: e.message })
    }
  },

  // Back on the page (e.g. after the network returned): settle the unknown.
  onShow() {
    if (this.data.outTradeNo && (this.data.state === 'unknown' || this.data.state === 'created')) return this.check()
  },

  async pay() {
    if (this.data.busy || this.data.state === 'paid') return
    this.setData({ busy: true, error: '', message: '' })
    try {
      const body = this.data.topupFen
        ? { house_id: this.data.houseId, topup_fen: this.data.topupFen }
        : { house_id: this.data.houseId, bill_ids: this.data.billIds }
      const order = await orders.create(body)
      orders.savePending({ ...order, house_id: this.data.houseId, purpose: this.data.topupFen ? 'topup' : 'bills' })
      this.setData({ outTradeNo: order.out_trade_no, amountText: money.formatYuan(order.amount_fen), state: 'paying' })
      const r = await orders.requestPayment(order)
      if (!r.ok) {
        // The order stays created: asking again for the same bills reuses it.
        // The resident saw the sheet close unpaid, so nothing is left to recover.
        orders.clearPending(order.out_trade_no)
        this.setData({ state: r.cancelled ? 'cancelled' : 'failed', message: r.cancelled ? MSG.cancelled : MSG.failed + '（' + r.errMsg.replace(/^requestPayment:fail\s*/, '') + '）' })
        return
      }
      await this.check()
    } catch (e) {
      this.setData({ state: this.data.outTradeNo ? 'unknown' : 'ready', error: e.message, message: this.data.outTradeNo ? MSG.unknown : '' })
    } finally {
      this.setData({ busy: false })
    }
  },

  async check() {
    this.setData({ state: 'checking', message: MSG.checking })
    try {
      const r = await orders.poll(this.data.outTradeNo, {
        onNetworkFailure: () => this.setData({ message: MSG.retrying })
      })
      this.setData({ state: r.state, message: MSG[r.state] || fmt.orderStateLabel(r.state) })
      if (r.state === 'paid') wx.showToast({ title: MSG.paid, icon: 'success' })
    } catch (e) {
      this.setData({ state: 'unknown', message: MSG.unknown, error: e.message })
    }
  },

  onDone() { wx.navigateBack({ delta: 1 }) }
})
