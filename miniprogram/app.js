const config = require('./utils/config')

App({
  globalData: {
    baseUrl: config.baseUrl,
    token: '',
    user: null,
    houseId: 0
  },
  onLaunch() {
    this.globalData.token = wx.getStorageSync('xq_token') || ''
    this.globalData.houseId = Number(wx.getStorageSync('xq_house_id')) || 0
  }
})
