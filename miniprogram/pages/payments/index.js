// Payments of the current house (GET /api/v1/houses/{id}/payments), each
// opening its receipt.
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const money = require('../../utils/money')
const fmt = require('../../utils/format')

const CHANNEL = { wechat: '微信支付', cash: '现金', bank: '银行转账', balance: '余额抵扣' }

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    this.setData({ loading: true, error: '' })
    try {
      const body = await get('/api/v1/houses/' + house.currentId() + '/payments')
      this.setData({
        loading: false,
        items: (body.items || []).map(p => ({
          id: p.id,
          amountText: money.formatYuan(p.amount_fen),
          channelText: p.channel_zh || CHANNEL[p.channel] || p.channel || '',
          purposeText: p.purpose === 'topup' ? '预存充值' : (p.bills || []).map(b => fmt.periodLabel(b.period) + (b.utility_zh || fmt.utilityLabel(b.utility))).join('、'),
          reversed: p.status === 'reversed',
          timeText: fmt.timeLabel(p.paid_at || p.created_at)
        }))
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  },
  onOpen(e) { wx.navigateTo({ url: '/pages/receipt/index?id=' + e.currentTarget.dataset.id }) }
})
