// Shown where the backend route is not there yet (404 "接口不存在").
Component({ properties: { text: { type: String, value: '功能即将上线' } } })
