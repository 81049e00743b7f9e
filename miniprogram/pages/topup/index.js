// Top-up of the prepaid balance: preset amounts or a typed one (yuan, at most
// two decimals), paid on the pay page as an order with topup_fen.
const house = require('../../utils/house')
const money = require('../../utils/money')
const config = require('../../utils/config')

Page({
  data: { presets: config.topupPresetsFen.map(f => ({ fen: f, text: money.formatYuan(f) })), chosenFen: 0, custom: '', error: '' },

  onPreset(e) { this.setData({ chosenFen: Number(e.currentTarget.dataset.fen), custom: '', error: '' }) },

  onCustom(e) {
    const fen = money.yuanToFen(e.detail.value)
    this.setData({ custom: e.detail.value, chosenFen: fen || 0, error: e.detail.value && fen === null ? '请输入正确的金额，最多两位小数' : '' })
  },

  // The pay page URL for the chosen amount ('' with an error when invalid).
  payUrl() {
    const fen = this.data.chosenFen
    if (!fen || fen < 100) { this.setData({ error: '充值金额至少 ¥1.00' }); return '' }
    if (fen > 500000) { this.setData({ error: '单次充值不超过 ¥5000.00' }); return '' }
    return '/pages/pay/index?house_id=' + house.currentId() + '&topup_fen=' + fen
  },

  onNext() { const url = this.payUrl(); if (url) wx.navigateTo({ url }) }
})
