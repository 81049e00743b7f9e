// A list of bills. items: [{id, title, unpaid_fen, amount_fen, status}];
// `selectable` shows a check box on unpaid bills and a total of the chosen
// ones. Emits `select` {id, item} on a row tap and `toggle` {id, selected}.
const money = require('../../utils/money')
const fmt = require('../../utils/format')

Component({
  properties: {
    items: { type: Array, value: [] },
    selectable: { type: Boolean, value: false },
    selected: { type: Array, value: [] }
  },
  data: { rows: [], total: '¥0.00', count: 0 },
  observers: {
    'items, selected': function (items, selected) {
      const chosen = new Set((selected || []).map(Number))
      let sum = 0
      const rows = (items || []).map(b => {
        const due = b.status === 'issued' && b.unpaid_fen > 0
        const on = due && chosen.has(Number(b.id))
        if (on) sum += b.unpaid_fen
        return {
          id: b.id,
          title: b.title || fmt.periodLabel(b.period) + ' ' + fmt.utilityLabel(b.utility),
          amountText: money.formatYuan(due ? b.unpaid_fen : b.amount_fen + (b.late_fee_fen || 0)),
          statusText: fmt.billStatusLabel(b.status),
          status: b.status,
          due,
          on
        }
      })
      this.setData({ rows, total: '合计 ' + money.formatYuan(sum), count: rows.filter(r => r.on).length })
    }
  },
  methods: {
    onTap(e) {
      const id = e.currentTarget.dataset.id
      const item = (this.properties.items || []).find(b => String(b.id) === String(id))
      this.triggerEvent('select', { id, item })
    },
    onToggle(e) {
      const id = Number(e.currentTarget.dataset.id)
      const row = this.data.rows.find(r => r.id === id)
      if (row && row.due) this.triggerEvent('toggle', { id, selected: !row.on })
    }
  }
})
