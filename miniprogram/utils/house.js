// The house the resident is looking at (a resident may have several).
const { get } = require('./request')

function currentId() {
  const g = getApp().globalData
  if (!g.houseId) g.houseId = Number(wx.getStorageSync('xq_house_id')) || 0
  return g.houseId
}

function select(id) {
  getApp().globalData.houseId = Number(id) || 0
  wx.setStorageSync('xq_house_id', Number(id) || 0)
}

// The bound houses, and the current one (the first when none was chosen or
// the chosen one is no longer bound).
async function load() {
  const body = await get('/api/v1/houses')
  const houses = body.items || []
  let id = currentId()
  if (!houses.some(h => h.id === id)) {
    id = houses.length ? houses[0].id : 0
    select(id)
  }
  return { houses, current: houses.find(h => h.id === id) || null }
}

function label(h) {
  if (!h) return ''
  return [h.community, h.building, h.unit_no ? h.unit_no + '单元' : '', h.room].filter(Boolean).join(' ')
}

module.exports = { currentId, select, load, label }
