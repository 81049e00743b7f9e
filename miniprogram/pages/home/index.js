// Home: the bound houses, the current one's balance, amount due, latest bill
// and alerts (arrears, low prepaid balance).
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const money = require('../../utils/money')
const fmt = require('../../utils/format')
const config = require('../../utils/config')
const orders = require('../../utils/orders')

const STALE_MS = 30 * 60 * 1000
const TAB_PAGES = ['/pages/home/index', '/pages/usage/index', '/pages/settings/index']

function alertsFor(h, latest) {
  const out = []
  if (h.arrears_fen > 0) out.push({ kind: 'due', text: '您有待缴费用 ' + money.formatYuan(h.arrears_fen) + '，请及时缴纳' })
  if (h.balance_fen < config.lowBalanceFen) {
    out.push({ kind: 'low', text: '预存余额不足 ' + money.formatYuan(config.lowBalanceFen) + '（当前 ' + money.formatYuan(h.balance_fen) + '），建议充值' })
  }
  if (latest && latest.status === 'issued' && latest.due_date) {
    out.push({ kind: 'bill', text: fmt.periodLabel(latest.period) + fmt.utilityLabel(latest.utility) + '请在 ' + latest.due_date + ' 前缴纳' })
  }
  return out
}

Page({
  data: { loading: true, error: '', houses: [], current: null, latest: null, alerts: [], needBind: false, forecast: null, pendingOrders: 0 },

  onShow() { return this.recoverPending().then(() => this.refresh()) },

  // Orders whose outcome the phone never learned (network lost, app closed
  // mid-payment): ask the server once each; paid ones leave the list, the
  // rest show as "待确认" until a later visit settles them.
  async recoverPending() {
    const pending = Object.keys(orders.pendingAll())
    let open = 0
    for (const no of pending) {
      try {
        const r = await orders.poll(no, { tries: 1 })
        // created for over 30 minutes: the resident never paid it (app closed
        // on the payment sheet); the order is reused if they pay the same bills.
        if (r.state === 'created' && Date.now() - (orders.pendingAll()[no] || {}).at > STALE_MS) orders.clearPending(no)
        else if (r.state === 'created' || r.state === 'unknown') open++
        else if (r.state !== 'paid') orders.clearPending(no)
      } catch (e) {
        if (e.status === 404) orders.clearPending(no)
        else open++
      }
    }
    this.setData({ pendingOrders: open })
  },

  async refresh() {
    this.setData({ loading: true, error: '' })
    try {
      const { houses, current } = await house.load()
      if (!current) {
        this.setData({ loading: false, houses: [], current: null, needBind: true, alerts: [] })
        return
      }
      const bills = await get('/api/v1/houses/' + current.id + '/bills')
      const b = (bills.items || [])[0] || null
      const latest = b && {
        ...b,
        title: fmt.periodLabel(b.period) + ' ' + fmt.utilityLabel(b.utility),
        amountText: money.formatYuan(b.amount_fen + (b.late_fee_fen || 0)),
        statusText: fmt.billStatusLabel(b.status)
      }
      this.setData({
        loading: false,
        needBind: false,
        houses: houses.map(h => ({ id: h.id, label: house.label(h) })),
        current: {
          ...current,
          label: house.label(current),
          balanceText: money.formatYuan(current.balance_fen),
          arrearsText: money.formatYuan(current.arrears_fen)
        },
        latest,
        alerts: alertsFor(current, b)
      })
      await this.loadForecast(current.id)
    } catch (e) {
      this.setData({ loading: false, error: e.message })
    }
  },

  // This month's expected electricity use (GET /api/v1/houses/{id}/forecast,
  // docs/dunning.md "Forecast"): months[which=this_month].expected in Wh, a
  // usage figure, not money. No history (method none) or any error: no card.
  async loadForecast(id) {
    try {
      const f = await get('/api/v1/houses/' + id + '/forecast', { silent: true, data: { utility: 'electric' } })
      const m = (f.months || []).find(x => x.which === 'this_month')
      const ok = m && Number.isSafeInteger(m.expected) && f.method !== 'none'
      this.setData({ forecast: ok ? {
        label: fmt.periodLabel(m.month) + '预计用电',
        amountText: money.milliToQty(m.expected) + ' 度',
        usedText: Number.isSafeInteger(f.used_this_month) ? '已用 ' + money.milliToQty(f.used_this_month) + ' 度' : ''
      } : null })
    } catch (e) {
      this.setData({ forecast: null })
    }
  },

  onPickHouse(e) {
    const h = this.data.houses[Number(e.detail.value)]
    if (h) { house.select(h.id); return this.refresh() }
  },

  onPayDue() {
    if (this.data.current) wx.navigateTo({ url: '/pages/bills/index?status=issued' })
  },
  onTopup() { wx.navigateTo({ url: '/pages/topup/index' }) },
  onBind() { wx.navigateTo({ url: '/pages/login/index' }) },
  onLatest() { if (this.data.latest) wx.navigateTo({ url: '/pages/bill-detail/index?id=' + this.data.latest.id }) },
  onPullDownRefresh() { return this.refresh().then(() => wx.stopPullDownRefresh && wx.stopPullDownRefresh()) },
  go(e) {
    const url = e.currentTarget.dataset.url
    // Tab bar pages cannot be pushed with navigateTo.
    if (TAB_PAGES.includes(url)) wx.switchTab({ url })
    else wx.navigateTo({ url })
  }
})
