// One line of a bill, explained (utils/lines.js).
const { explain } = require('../../utils/lines')

Component({
  // line: a bill line; its `utility` (electric/water) picks the unit shown.
  properties: { line: { type: Object, value: {} } },
  data: { v: explain({}) },
  observers: { line(l) { this.setData({ v: explain(l, l && l.utility) }) } }
})
