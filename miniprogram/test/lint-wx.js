// node lint-wx.js <mini-program root>: every .wxml through WeChat's wcc and
// every .wxss through wcsc (the Linux binaries inside miniprogram-compiler),
// printing file:line:col errors.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')
const bin = path.join(path.dirname(require.resolve('miniprogram-compiler')), 'bin/linux')
for (const b of ['wcc', 'wcsc']) fs.chmodSync(path.join(bin, b), 0o755) // the tarball lacks +x
const root = path.resolve(process.argv[2] || '..')
let bad = 0
let n = 0
const files = fs.readdirSync(root, { recursive: true })
  .filter(f => /\.wx(ml|ss)$/.test(f) && !/(node_modules|miniprogram_npm|test)\//.test(f))
for (const rel of files) {
  const wxml = rel.endsWith('.wxml')
  const r = spawnSync(path.join(bin, wxml ? 'wcc' : 'wcsc'), wxml ? ['-d', '-cc', '0', rel, '-gn', '$gwx'] : ['-db', '-pc', '0', rel], { cwd: root })
  n++
  if (r.status !== 0) { bad++; console.log(rel + ': ' + r.stderr.toString().trim().split('\n')[0]) }
}
console.log(bad ? `${bad} of ${n} wxml/wxss file(s) failed` : `wxml/wxss ok (${n} files)`)
process.exit(bad ? 1 : 0)
