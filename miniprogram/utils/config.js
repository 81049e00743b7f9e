// The one place for environment settings of the mini-program.
//
// baseUrl: the local stack (deploy/stack.sh start, nginx on XQ_PORT, 8080 by
// default). In WeChat DevTools tick "不校验合法域名" (Details → Local settings) so
// plain http to 127.0.0.1 is allowed; a release build points this at the
// production https host registered as a request domain.
module.exports = {
  baseUrl: 'http://127.0.0.1:8080',
  // Must match wx.appid of the stack (xq-wxsim's demo appid) and project.config.json.
  appid: 'wx8888888888888888',
  // One-time subscribe-message templates (xq-wxsim preloads these demo ids).
  // billDue and arrears must equal the server's dunning.tpl_reminder and
  // dunning.tpl_arrears (deploy/xiaoqu.conf.example): those are the ones it sends.
  templates: {
    billDue: 'XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001',
    paymentSuccess: 'XQ-PAYMENT-SUCCESS-DEMO-TEMPLATE-000000002',
    arrears: 'XQ-ARREARS-NOTICE-DEMO-TEMPLATE-0000000003'
  },
  // A prepaid balance below this (fen) shows the low-balance notice on home.
  lowBalanceFen: 2000,
  // Preset top-up amounts (fen).
  topupPresetsFen: [5000, 10000, 20000, 50000],
  // Order polling after wx.requestPayment: the client result is not proof of
  // payment, the server's order state is (wechat-protocols.md §7).
  pollIntervalMs: 1000,
  pollMaxTries: 10,
  requestTimeoutMs: 15000,
  // Development against the local stack in WeChat DevTools only (keep both
  // empty for a release): DevTools' wx.login codes are real WeChat codes that
  // xq-wxsim does not know, and its payment sheet cannot pay the imitation.
  // devLoginName: log in with xq-wxsim's deterministic code test-<name>.<n>.
  // devSimUrl: "pay" by POSTing the wx.requestPayment parameters to
  // xq-wxsim's /sim/pay (http://127.0.0.1:8090 for the local stack).
  devLoginName: '',
  devSimUrl: ''
}
