// Bills of the current house (issued and paid, newest first). Unpaid ones can
// be chosen and paid together.
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const money = require('../../utils/money')

Page({
  data: { loading: true, error: '', houseId: 0, bills: [], selected: [], totalFen: 0, totalText: '¥0.00', filter: 'all' },

  onLoad(q) {
    if (q && q.status) this.setData({ filter: q.status })
    return this.refresh()
  },
  onShow() { if (this.loaded) return this.refresh() },

  async refresh() {
    this.setData({ loading: true, error: '' })
    try {
      const id = house.currentId() || (await house.load()).current?.id
      if (!id) { this.setData({ loading: false, bills: [], error: '请先绑定房屋' }); return }
      const body = await get('/api/v1/houses/' + id + '/bills')
      const all = body.items || []
      const bills = this.data.filter === 'issued' ? all.filter(b => b.status === 'issued') : all
      // Preselect every unpaid bill when the resident came to pay what is due.
      const due = bills.filter(b => b.status === 'issued' && b.unpaid_fen > 0).map(b => b.id)
      const keep = this.data.selected.filter(x => due.includes(x))
      this.loaded = true
      this.setData({ loading: false, houseId: id, bills })
      this.setSelected(this.data.filter === 'issued' && !keep.length ? due : keep)
    } catch (e) {
      this.setData({ loading: false, error: e.message })
    }
  },

  setSelected(ids) {
    const total = this.data.bills.filter(b => ids.includes(b.id)).reduce((s, b) => s + b.unpaid_fen, 0)
    this.setData({ selected: ids, totalFen: total, totalText: money.formatYuan(total) })
  },

  onToggle(e) {
    const { id, selected } = e.detail
    const cur = this.data.selected.filter(x => x !== id)
    this.setSelected(selected ? cur.concat([id]) : cur)
  },

  onSelect(e) { wx.navigateTo({ url: '/pages/bill-detail/index?id=' + e.detail.id }) },

  onFilter(e) { this.setData({ filter: e.currentTarget.dataset.filter }); return this.refresh() },

  // The pay page's URL for the chosen bills ('' when nothing is chosen).
  payUrl() {
    if (!this.data.selected.length) return ''
    return '/pages/pay/index?house_id=' + this.data.houseId + '&bill_ids=' + this.data.selected.join(',')
  },

  onPay() {
    const url = this.payUrl()
    if (!url) { wx.showToast({ title: '请选择要缴的账单', icon: 'none' }); return }
    wx.navigateTo({ url })
  }
})
