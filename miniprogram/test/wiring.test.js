/** @jest-environment node */
// The project as WeChat DevTools would open it: every page in app.json has
// its four files and valid JSON, every usingComponents target exists, every
// custom tag in a WXML is declared, and every bind/catch handler named in a
// WXML is a function of that page or component.
const fs = require('fs')
const path = require('path')
const { createWx, loadPage } = require('./helpers/wx-harness')

const ROOT = path.join(__dirname, '..')
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
const BUILTIN = new Set(['view', 'text', 'button', 'input', 'textarea', 'image', 'picker', 'block', 'canvas', 'scroll-view', 'swiper', 'swiper-item', 'icon', 'navigator', 'switch', 'checkbox', 'radio', 'label', 'form', 'slot', 'template', 'import', 'include', 'wxs', 'rich-text', 'progress'])

function handlers(wxml) {
  const out = new Set()
  for (const m of wxml.matchAll(/\s(?:bind|catch|capture-bind|capture-catch)(?::)?[a-z]+="([A-Za-z_$][\w$]*)"/g)) out.add(m[1])
  return [...out]
}
function tags(wxml) {
  return [...new Set([...wxml.matchAll(/<([a-z][\w-]*)/g)].map(m => m[1]))]
}
function checkJson(dir, rel, json) {
  for (const [tag, target] of Object.entries(json.usingComponents || {})) {
    const base = target.startsWith('/') ? path.join(ROOT, target) : path.join(ROOT, path.dirname(rel), target)
    for (const ext of ['.js', '.json', '.wxml']) expect([tag, fs.existsSync(base + ext)]).toEqual([tag, true])
  }
}

test('app.json: tab bar pages are pages, sitemap and project config present', () => {
  for (const t of app.tabBar.list) expect(app.pages).toContain(t.pagePath)
  expect(fs.existsSync(path.join(ROOT, app.sitemapLocation))).toBe(true)
  const pc = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'))
  expect(pc.appid).toBe(require('../utils/config').appid)
  expect(pc.setting.urlCheck).toBe(false)
})

for (const p of app.pages) {
  test(`page ${p}: files, components, handlers`, () => {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) expect([p + ext, fs.existsSync(path.join(ROOT, p + ext))]).toEqual([p + ext, true])
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, p + '.json'), 'utf8'))
    checkJson(ROOT, p, json)
    const wxml = fs.readFileSync(path.join(ROOT, p + '.wxml'), 'utf8')
    for (const t of tags(wxml)) if (!BUILTIN.has(t)) expect([t, !!(json.usingComponents || {})[t]]).toEqual([t, true])
    const page = loadPage(ROOT, p, { wx: createWx({ target: 'http://127.0.0.1:9' }) })
    for (const h of handlers(wxml)) expect([h, typeof page[h]]).toEqual([h, 'function'])
  })
}

for (const c of fs.readdirSync(path.join(ROOT, 'components'))) {
  test(`component ${c}: handlers are methods`, () => {
    const base = path.join(ROOT, 'components', c, 'index')
    const json = JSON.parse(fs.readFileSync(base + '.json', 'utf8'))
    expect(json.component).toBe(true)
    let opts
    global.Component = o => { opts = o }
    global.wx = createWx({ target: 'http://127.0.0.1:9' })
    jest.isolateModules(() => require(base))
    const wxml = fs.readFileSync(base + '.wxml', 'utf8')
    for (const h of handlers(wxml)) expect([h, typeof (opts.methods || {})[h]]).toEqual([h, 'function'])
  })
}
